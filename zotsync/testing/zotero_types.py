"""Item types, fields and creator types of Zotero 6–10, and the IDs a database of each age uses.

Written from the reference facts (``schema.json`` v31/v41 and the legacy ``system-107`` IDs),
not copied from Zotero. IDs differ between a database created before the global schema (Zotero
6 here: legacy IDs, new types appended ``MAX+1``) and a fresh Zotero 7+ database (IDs allocated
in ``schema.json`` order), so a reader that hard-codes an ID fails against these fixtures.

Item types and their fields (schema v31 order; ``specific:base`` marks a base-field mapping).
v40+ (Zotero 8 and later here) adds ``DOI`` and ``citationKey`` to every regular type.
"""

from __future__ import annotations

__all__ = [
    "DATE_FIELDS",
    "ITEM_TYPES",
    "LEGACY_CREATOR_IDS",
    "LEGACY_FIELD_IDS",
    "LEGACY_TYPE_IDS",
    "NON_REGULAR",
    "allocate_type_ids",
    "type_creators",
    "type_fields",
]

_TAIL = "language shortTitle url accessDate archive archiveLocation libraryCatalog callNumber rights extra"
_WEB_TAIL = "date shortTitle url accessDate language rights extra"

#: type -> (fields, creator types; the first creator type is the primary one)
ITEM_TYPES: dict[str, tuple[str, str]] = {
    "annotation": ("", ""),
    "artwork": (
        "title abstractNote artworkMedium:medium artworkSize date " + _TAIL,
        "artist contributor",
    ),
    "attachment": ("title accessDate url", ""),
    "audioRecording": (
        "title abstractNote audioRecordingFormat:medium seriesTitle volume numberOfVolumes place "
        "label:publisher date runningTime ISBN " + _TAIL,
        "performer contributor composer wordsBy",
    ),
    "bill": (
        "title abstractNote billNumber:number code codeVolume:volume section codePages:pages "
        "legislativeBody:authority session history date language url accessDate shortTitle "
        "rights extra",
        "sponsor cosponsor contributor",
    ),
    "blogPost": (
        "title abstractNote blogTitle:publicationTitle websiteType:type " + _WEB_TAIL,
        "author commenter contributor",
    ),
    "book": (
        "title abstractNote series seriesNumber volume numberOfVolumes edition place publisher "
        "date numPages ISBN " + _TAIL,
        "author contributor editor seriesEditor translator reviewedAuthor",
    ),
    "bookSection": (
        "title abstractNote bookTitle:publicationTitle series seriesNumber volume "
        "numberOfVolumes edition place publisher date pages ISBN " + _TAIL,
        "author contributor editor bookAuthor seriesEditor translator reviewedAuthor",
    ),
    "case": (
        "caseName:title abstractNote court:authority dateDecided:date docketNumber:number "
        "reporter reporterVolume:volume firstPage:pages history language shortTitle url "
        "accessDate rights extra",
        "author counsel contributor",
    ),
    "computerProgram": (
        "title abstractNote seriesTitle versionNumber date system place company:publisher "
        "programmingLanguage ISBN " + _TAIL,
        "programmer contributor",
    ),
    "conferencePaper": (
        "title abstractNote date proceedingsTitle:publicationTitle conferenceName place "
        "publisher volume pages series DOI ISBN " + _TAIL,
        "author contributor editor seriesEditor translator reviewedAuthor",
    ),
    "dataset": (
        "title abstractNote identifier:number type versionNumber date repository:publisher "
        "repositoryLocation:place format:medium DOI citationKey " + _TAIL,
        "author contributor",
    ),
    "dictionaryEntry": (
        "title abstractNote dictionaryTitle:publicationTitle series seriesNumber volume "
        "numberOfVolumes edition place publisher date pages ISBN " + _TAIL,
        "author contributor editor seriesEditor translator",
    ),
    "document": (
        "title abstractNote publisher date " + _TAIL,
        "author contributor editor translator reviewedAuthor",
    ),
    "email": ("subject:title abstractNote " + _WEB_TAIL, "author contributor recipient"),
    "encyclopediaArticle": (
        "title abstractNote encyclopediaTitle:publicationTitle series seriesNumber volume "
        "numberOfVolumes edition place publisher date pages ISBN " + _TAIL,
        "author contributor editor seriesEditor translator",
    ),
    "film": (
        "title abstractNote distributor:publisher date genre:type videoRecordingFormat:medium "
        "runningTime " + _TAIL,
        "director contributor producer scriptwriter",
    ),
    "forumPost": (
        "title abstractNote forumTitle:publicationTitle postType:type " + _WEB_TAIL,
        "author contributor",
    ),
    "hearing": (
        "title abstractNote committee place publisher numberOfVolumes documentNumber:number "
        "pages legislativeBody:authority session history date language shortTitle url "
        "accessDate rights extra",
        "contributor",
    ),
    "instantMessage": ("title abstractNote " + _WEB_TAIL, "author contributor recipient"),
    "interview": (
        "title abstractNote date interviewMedium:medium " + _TAIL,
        "interviewee contributor interviewer translator",
    ),
    "journalArticle": (
        "title abstractNote publicationTitle volume issue pages date series seriesTitle "
        "seriesText journalAbbreviation language DOI ISSN shortTitle url accessDate archive "
        "archiveLocation libraryCatalog callNumber rights extra",
        "author contributor editor translator reviewedAuthor",
    ),
    "letter": ("title abstractNote letterType:type date " + _TAIL, "author contributor recipient"),
    "magazineArticle": (
        "title abstractNote publicationTitle volume issue date pages ISSN " + _TAIL,
        "author contributor translator reviewedAuthor",
    ),
    "manuscript": (
        "title abstractNote manuscriptType:type place date numPages " + _TAIL,
        "author contributor translator",
    ),
    "map": (
        "title abstractNote mapType:type scale seriesTitle edition place publisher date ISBN "
        + _TAIL,
        "cartographer contributor seriesEditor",
    ),
    "newspaperArticle": (
        "title abstractNote publicationTitle place edition date section pages ISSN " + _TAIL,
        "author contributor translator reviewedAuthor",
    ),
    "note": ("", ""),
    "patent": (
        "title abstractNote place country assignee issuingAuthority:authority "
        "patentNumber:number filingDate pages applicationNumber priorityNumbers issueDate:date "
        "references legalStatus:status language shortTitle url accessDate rights extra",
        "inventor attorneyAgent contributor",
    ),
    "podcast": (
        "title abstractNote seriesTitle episodeNumber:number audioFileType:medium runningTime "
        "url accessDate language shortTitle rights extra",
        "podcaster contributor guest",
    ),
    "preprint": (
        "title abstractNote genre:type repository:publisher archiveID:number place date series "
        "seriesNumber DOI citationKey url accessDate archive archiveLocation shortTitle language "
        "libraryCatalog callNumber rights extra",
        "author contributor editor translator reviewedAuthor",
    ),
    "presentation": (
        "title abstractNote presentationType:type date place meetingName url accessDate "
        "language shortTitle rights extra",
        "presenter contributor",
    ),
    "radioBroadcast": (
        "title abstractNote programTitle:publicationTitle episodeNumber:number "
        "audioRecordingFormat:medium place network:publisher date runningTime " + _TAIL,
        "director castMember contributor guest producer scriptwriter",
    ),
    "report": (
        "title abstractNote reportNumber:number reportType:type seriesTitle place "
        "institution:publisher date pages " + _TAIL,
        "author contributor translator seriesEditor",
    ),
    "standard": (
        "title abstractNote organization:authority committee type number versionNumber status "
        "date publisher place DOI citationKey url accessDate archive archiveLocation shortTitle "
        "numPages language libraryCatalog callNumber rights extra",
        "author contributor",
    ),
    "statute": (
        "nameOfAct:title abstractNote code codeNumber publicLawNumber:number "
        "dateEnacted:date pages section session history language shortTitle url accessDate "
        "rights extra",
        "author contributor",
    ),
    "thesis": (
        "title abstractNote thesisType:type university:publisher place date numPages " + _TAIL,
        "author contributor",
    ),
    "tvBroadcast": (
        "title abstractNote programTitle:publicationTitle episodeNumber:number "
        "videoRecordingFormat:medium place network:publisher date runningTime " + _TAIL,
        "director castMember contributor guest producer scriptwriter",
    ),
    "videoRecording": (
        "title abstractNote videoRecordingFormat:medium seriesTitle volume numberOfVolumes "
        "place studio:publisher date runningTime ISBN " + _TAIL,
        "director castMember contributor producer scriptwriter",
    ),
    "webpage": (
        "title abstractNote websiteTitle:publicationTitle websiteType:type " + _WEB_TAIL,
        "author contributor translator",
    ),
}

NON_REGULAR = ("annotation", "attachment", "note")

#: fields whose values are stored in multipart form (``meta.fields[*].type == "date"``)
DATE_FIELDS = frozenset({"date", "filingDate", "dateDecided", "issueDate", "dateEnacted"})

#: legacy (pre-global-schema) IDs that survive in Zotero 6 databases created long ago
LEGACY_TYPE_IDS = {
    "note": 1, "book": 2, "bookSection": 3, "journalArticle": 4, "magazineArticle": 5,
    "newspaperArticle": 6, "thesis": 7, "letter": 8, "manuscript": 9, "interview": 10,
    "film": 11, "artwork": 12, "webpage": 13, "attachment": 14, "report": 15, "bill": 16,
    "case": 17, "hearing": 18, "patent": 19, "statute": 20, "email": 21, "map": 22,
    "blogPost": 23, "instantMessage": 24, "forumPost": 25, "audioRecording": 26,
    "presentation": 27, "videoRecording": 28, "tvBroadcast": 29, "radioBroadcast": 30,
    "podcast": 31, "computerProgram": 32, "conferencePaper": 33, "document": 34,
    "encyclopediaArticle": 35, "dictionaryEntry": 36,
}  # fmt: skip
LEGACY_FIELD_IDS = {
    "url": 1, "publicationTitle": 12, "date": 14, "extra": 22, "DOI": 26, "accessDate": 27,
    "abstractNote": 90, "title": 110, "proceedingsTitle": 114, "bookTitle": 115,
}  # fmt: skip
LEGACY_CREATOR_IDS = {
    "author": 1, "contributor": 2, "editor": 3, "translator": 4, "seriesEditor": 5,
    "interviewee": 6, "interviewer": 7, "director": 8, "scriptwriter": 9, "producer": 10,
    "castMember": 11, "sponsor": 12, "counsel": 13, "inventor": 14, "attorneyAgent": 15,
    "recipient": 16, "performer": 17, "composer": 18, "wordsBy": 19, "cartographer": 20,
    "programmer": 21, "artist": 22, "commenter": 23, "presenter": 24, "guest": 25,
    "podcaster": 26, "reviewedAuthor": 27, "cosponsor": 28, "bookAuthor": 29,
}  # fmt: skip


def type_fields(item_type: str, zotero: int) -> list[tuple[str, str | None]]:
    """``[(field, base_or_None), ...]`` of a type for a Zotero major version."""
    spec = ITEM_TYPES.get(item_type, ("title abstractNote date " + _TAIL, "author contributor"))[0]
    out: list[tuple[str, str | None]] = []
    for token in spec.split():
        name, _, base = token.partition(":")
        out.append((name, base or None))
    if zotero >= 8 and item_type not in NON_REGULAR:
        names = {n for n, _ in out}
        out.extend((n, None) for n in ("DOI", "citationKey") if n not in names)
    return out


def type_creators(item_type: str) -> list[str]:
    """Creator types allowed for ``item_type``; the first is the primary one."""
    return ITEM_TYPES.get(item_type, ("", "author contributor"))[1].split()


def _allocate(names: list[str], pinned: dict[str, int]) -> dict[str, int]:
    """IDs for ``names`` in order: pinned ones keep theirs, the rest fill the lowest gaps."""
    out = {n: pinned[n] for n in names if n in pinned}
    used = set(out.values())
    next_id = 1
    for name in names:
        if name in out:
            continue
        while next_id in used:
            next_id += 1
        out[name] = next_id
        used.add(next_id)
    return out


def allocate_type_ids(zotero: int) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """(item type, field, creator type) name -> ID maps as a database of that age has them.

    Zotero 7+: ``MAX(id)+1`` in schema.json order (types alphabetical, fields and creator types
    by first appearance). Zotero 6: a database that predates the global schema, so legacy IDs
    with newer types (annotation, preprint, dataset, standard) appended after them.
    """
    type_names = sorted(ITEM_TYPES)
    field_names: list[str] = []
    creator_names: list[str] = []
    for t in type_names:
        for name, base in type_fields(t, zotero):
            for n in (name, base):
                if n and n not in field_names:
                    field_names.append(n)
        for c in type_creators(t):
            if c not in creator_names:
                creator_names.append(c)
    if zotero >= 7:
        return (
            {n: i + 1 for i, n in enumerate(type_names)},
            {n: i + 1 for i, n in enumerate(field_names)},
            {n: i + 1 for i, n in enumerate(creator_names)},
        )
    legacy_first = [t for t in type_names if t in LEGACY_TYPE_IDS]
    newer = [t for t in type_names if t not in LEGACY_TYPE_IDS]
    types = {t: LEGACY_TYPE_IDS[t] for t in legacy_first}
    for t in newer:
        types[t] = max(types.values()) + 1
    return (
        types,
        _allocate(field_names, LEGACY_FIELD_IDS),
        _allocate(creator_names, LEGACY_CREATOR_IDS),
    )
