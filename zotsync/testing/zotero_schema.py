"""DDL and type/field tables for building real-schema ``zotero.sqlite`` fixtures.

Written from the reference facts (``userdata.sql``/``system.sql``/``triggers.sql`` shapes of
Zotero 6.0.37, 7.0.0, 9.0.0 and 10.0.0), not copied from Zotero. The point of the fixture is
to be *faithful where readers go wrong*:

* type, field and creator-type IDs differ between a database created before the global schema
  (Zotero 6 here: legacy ``system-107`` IDs, new types appended ``MAX+1``) and a fresh Zotero 7+
  database (IDs allocated in ``schema.json`` order), so a reader that hard-codes an ID fails;
* Zotero 10 adds ``clientVersion``/``*Normalized`` columns, drops the fulltext word tables and
  uses WAL, so a reader that assumes one column set fails;
* ``*Combined`` tables are filled like Zotero fills them at start-up.

Item types and their fields (schema v31 order; ``specific:base`` marks a base-field mapping).
v40+ (Zotero 8 and later here) adds ``DOI`` and ``citationKey`` to every regular type.
"""

from __future__ import annotations

import sqlite3

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

#: Zotero major version -> (userdata, globalSchema, compatibility)
VERSIONS = {6: (121, 21, 7), 7: (123, 31, 7), 8: (123, 41, 7), 9: (125, 41, 7), 10: (129, 41, 9)}


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


#: triggers.sql (the ones readers and writers can trip over); created after a bulk load
TRIGGERS = [
    "CREATE TRIGGER insert_creators BEFORE INSERT ON creators FOR EACH ROW WHEN NEW.firstName='' AND NEW.lastName='' BEGIN SELECT RAISE (ABORT, 'Creator names cannot be empty'); END",
    "CREATE TRIGGER fki_collections_parentCollectionID_libraryID BEFORE INSERT ON collections FOR EACH ROW BEGIN SELECT RAISE(ABORT, 'insert on table \"collections\" violates foreign key constraint') WHERE NEW.parentCollectionID IS NOT NULL AND NEW.libraryID != (SELECT libraryID FROM collections WHERE collectionID = NEW.parentCollectionID); END",
    "CREATE TRIGGER fki_collectionItems_itemID_parentItemID BEFORE INSERT ON collectionItems FOR EACH ROW BEGIN SELECT RAISE(ABORT, 'insert on table \"collectionItems\" violates foreign key constraint') WHERE NEW.itemID IN (SELECT itemID FROM itemAttachments WHERE parentItemID IS NOT NULL UNION SELECT itemID FROM itemNotes WHERE parentItemID IS NOT NULL); END",
    "CREATE TRIGGER fki_tags BEFORE INSERT ON tags FOR EACH ROW BEGIN SELECT RAISE(ABORT, 'Tag cannot be blank') WHERE TRIM(NEW.name)=''; END",
]


def ddl(zotero: int) -> str:
    """The CREATE statements (tables, indexes) of a Zotero ``zotero`` (6–10) database."""
    v9, v10 = zotero >= 9, zotero >= 10
    cv = ", clientVersion INT NOT NULL DEFAULT 0" if v10 else ""
    parts = [
        # system.sql
        "CREATE TABLE fieldFormats (fieldFormatID INTEGER PRIMARY KEY, regex TEXT, isInteger INT)",
        "CREATE TABLE charsets (charsetID INTEGER PRIMARY KEY, charset TEXT UNIQUE)",
        "CREATE INDEX charsets_charset ON charsets(charset)",
        "CREATE TABLE fileTypes (fileTypeID INTEGER PRIMARY KEY, fileType TEXT UNIQUE)",
        "CREATE TABLE fileTypeMimeTypes (fileTypeID INT, mimeType TEXT, PRIMARY KEY (fileTypeID, mimeType))",
        "CREATE TABLE syncObjectTypes (syncObjectTypeID INTEGER PRIMARY KEY, name TEXT)",
        # type/field tables (global schema)
        "CREATE TABLE itemTypes (itemTypeID INTEGER PRIMARY KEY, typeName TEXT, templateItemTypeID INT, display INT DEFAULT 1)",
        "CREATE TABLE itemTypesCombined (itemTypeID INT NOT NULL, typeName TEXT NOT NULL, display INT DEFAULT 1 NOT NULL, custom INT NOT NULL, PRIMARY KEY (itemTypeID))",
        "CREATE TABLE fields (fieldID INTEGER PRIMARY KEY, fieldName TEXT, fieldFormatID INT)",
        "CREATE TABLE fieldsCombined (fieldID INT NOT NULL, fieldName TEXT NOT NULL, label TEXT, fieldFormatID INT, custom INT NOT NULL, PRIMARY KEY (fieldID))",
        "CREATE TABLE itemTypeFields (itemTypeID INT, fieldID INT, hide INT, orderIndex INT, PRIMARY KEY (itemTypeID, orderIndex), UNIQUE (itemTypeID, fieldID))",
        "CREATE INDEX itemTypeFields_fieldID ON itemTypeFields(fieldID)",
        "CREATE TABLE itemTypeFieldsCombined (itemTypeID INT NOT NULL, fieldID INT NOT NULL, hide INT, orderIndex INT NOT NULL, PRIMARY KEY (itemTypeID, orderIndex), UNIQUE (itemTypeID, fieldID))",
        "CREATE TABLE baseFieldMappings (itemTypeID INT, baseFieldID INT, fieldID INT, PRIMARY KEY (itemTypeID, baseFieldID, fieldID))",
        "CREATE TABLE baseFieldMappingsCombined (itemTypeID INT, baseFieldID INT, fieldID INT, PRIMARY KEY (itemTypeID, baseFieldID, fieldID))",
        "CREATE TABLE creatorTypes (creatorTypeID INTEGER PRIMARY KEY, creatorType TEXT)",
        "CREATE TABLE itemTypeCreatorTypes (itemTypeID INT, creatorTypeID INT, primaryField INT, PRIMARY KEY (itemTypeID, creatorTypeID))",
        "CREATE TABLE customItemTypes (customItemTypeID INTEGER PRIMARY KEY, typeName TEXT, label TEXT, display INT DEFAULT 1, icon TEXT)",
        "CREATE TABLE customFields (customFieldID INTEGER PRIMARY KEY, fieldName TEXT, label TEXT)",
        "CREATE TABLE customItemTypeFields (customItemTypeID INT NOT NULL, fieldID INT, customFieldID INT, hide INT NOT NULL, orderIndex INT NOT NULL, PRIMARY KEY (customItemTypeID, orderIndex))",
        "CREATE TABLE customBaseFieldMappings (customItemTypeID INT, baseFieldID INT, customFieldID INT, PRIMARY KEY (customItemTypeID, baseFieldID, customFieldID))",
        # userdata.sql
        "CREATE TABLE version (schema TEXT PRIMARY KEY, version INT NOT NULL)",
        "CREATE INDEX schema ON version(schema)",
        "CREATE TABLE settings (setting TEXT, key TEXT, value, PRIMARY KEY (setting, key))",
        "CREATE TABLE syncedSettings (setting TEXT NOT NULL, libraryID INT NOT NULL, value NOT NULL, version INT NOT NULL DEFAULT 0, synced INT NOT NULL DEFAULT 0, PRIMARY KEY (setting, libraryID))",
        "CREATE TABLE items (itemID INTEGER PRIMARY KEY, itemTypeID INT NOT NULL, dateAdded TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, dateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, clientDateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, libraryID INT NOT NULL, key TEXT NOT NULL, version INT NOT NULL DEFAULT 0"
        + cv
        + ", synced INT NOT NULL DEFAULT 0, UNIQUE (libraryID, key))",
        "CREATE INDEX items_synced ON items(synced)",
        "CREATE TABLE itemDataValues (valueID INTEGER PRIMARY KEY, value UNIQUE"
        + (", valueNormalized TEXT" if v10 else "")
        + ")",
        "CREATE TABLE itemData (itemID INT, fieldID INT, valueID, PRIMARY KEY (itemID, fieldID))",
        "CREATE INDEX itemData_fieldID ON itemData(fieldID)",
        "CREATE INDEX itemData_valueID ON itemData(valueID)",
        "CREATE TABLE itemNotes (itemID INTEGER PRIMARY KEY, parentItemID INT, note TEXT, title TEXT)",
        "CREATE INDEX itemNotes_parentItemID ON itemNotes(parentItemID)",
        "CREATE TABLE itemAttachments (itemID INTEGER PRIMARY KEY, parentItemID INT, linkMode INT, contentType TEXT, charsetID INT, path TEXT, syncState INT DEFAULT 0, storageModTime INT, storageHash TEXT, lastProcessedModificationTime INT"
        + (", lastRead INT" if v9 else "")
        + ")",
        "CREATE INDEX itemAttachments_parentItemID ON itemAttachments(parentItemID)",
        "CREATE INDEX itemAttachments_contentType ON itemAttachments(contentType)",
        "CREATE TABLE itemAnnotations (itemID INTEGER PRIMARY KEY, parentItemID INT NOT NULL, type INTEGER NOT NULL, authorName TEXT, text TEXT, comment TEXT, color TEXT, pageLabel TEXT, sortIndex TEXT NOT NULL, position TEXT NOT NULL, isExternal INT NOT NULL"
        + (", textNormalized TEXT, commentNormalized TEXT" if v10 else "")
        + ")",
        "CREATE INDEX itemAnnotations_parentItemID ON itemAnnotations(parentItemID)",
        "CREATE TABLE tags (tagID INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE"
        + (", nameNormalized TEXT" if v10 else "")
        + ")",
        "CREATE TABLE itemRelations (itemID INT NOT NULL, predicateID INT NOT NULL, object TEXT NOT NULL, PRIMARY KEY (itemID, predicateID, object))",
        "CREATE INDEX itemRelations_predicateID ON itemRelations(predicateID)",
        "CREATE INDEX itemRelations_object ON itemRelations(object)",
        "CREATE TABLE itemTags (itemID INT NOT NULL, tagID INT NOT NULL, type INT NOT NULL, PRIMARY KEY (itemID, tagID))",
        "CREATE INDEX itemTags_tagID ON itemTags(tagID)",
        "CREATE TABLE creators (creatorID INTEGER PRIMARY KEY, firstName TEXT, lastName TEXT, fieldMode INT"
        + (", firstNameNormalized TEXT, lastNameNormalized TEXT" if v10 else "")
        + ", UNIQUE (lastName, firstName, fieldMode))",
        "CREATE TABLE itemCreators (itemID INT NOT NULL, creatorID INT NOT NULL, creatorTypeID INT NOT NULL DEFAULT 1, orderIndex INT NOT NULL DEFAULT 0, PRIMARY KEY (itemID, creatorID, creatorTypeID, orderIndex), UNIQUE (itemID, orderIndex))",
        "CREATE INDEX itemCreators_creatorTypeID ON itemCreators(creatorTypeID)",
        "CREATE TABLE collections (collectionID INTEGER PRIMARY KEY, collectionName TEXT NOT NULL, parentCollectionID INT DEFAULT NULL, clientDateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, libraryID INT NOT NULL, key TEXT NOT NULL, version INT NOT NULL DEFAULT 0"
        + cv
        + ", synced INT NOT NULL DEFAULT 0, UNIQUE (libraryID, key))",
        "CREATE TABLE collectionItems (collectionID INT NOT NULL, itemID INT NOT NULL, orderIndex INT NOT NULL DEFAULT 0, PRIMARY KEY (collectionID, itemID))",
        "CREATE INDEX collectionItems_itemID ON collectionItems(itemID)",
        "CREATE TABLE collectionRelations (collectionID INT NOT NULL, predicateID INT NOT NULL, object TEXT NOT NULL, PRIMARY KEY (collectionID, predicateID, object))",
        "CREATE TABLE feeds (libraryID INTEGER PRIMARY KEY, name TEXT NOT NULL, url TEXT NOT NULL UNIQUE, lastUpdate TIMESTAMP, lastCheck TIMESTAMP, lastCheckError TEXT, cleanupReadAfter INT, cleanupUnreadAfter INT, refreshInterval INT)",
        "CREATE TABLE feedItems (itemID INTEGER PRIMARY KEY, guid TEXT NOT NULL UNIQUE, readTime TIMESTAMP, translatedTime TIMESTAMP)",
        "CREATE TABLE savedSearches (savedSearchID INTEGER PRIMARY KEY, savedSearchName TEXT NOT NULL, clientDateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, libraryID INT NOT NULL, key TEXT NOT NULL, version INT NOT NULL DEFAULT 0, synced INT NOT NULL DEFAULT 0, UNIQUE (libraryID, key))",
        "CREATE TABLE savedSearchConditions (savedSearchID INT NOT NULL, searchConditionID INT NOT NULL, condition TEXT NOT NULL, operator TEXT, value TEXT"
        + ("" if v10 else ", required NONE")
        + ", PRIMARY KEY (savedSearchID, searchConditionID))",
        "CREATE TABLE deletedCollections (collectionID INTEGER PRIMARY KEY, dateDeleted DEFAULT CURRENT_TIMESTAMP NOT NULL)",
        "CREATE TABLE deletedItems (itemID INTEGER PRIMARY KEY, dateDeleted DEFAULT CURRENT_TIMESTAMP NOT NULL)",
        "CREATE INDEX deletedItems_dateDeleted ON deletedItems(dateDeleted)",
        "CREATE TABLE deletedSearches (savedSearchID INTEGER PRIMARY KEY, dateDeleted DEFAULT CURRENT_TIMESTAMP NOT NULL)",
        "CREATE TABLE libraries (libraryID INTEGER PRIMARY KEY, type TEXT NOT NULL, editable INT NOT NULL, filesEditable INT NOT NULL, version INT NOT NULL DEFAULT 0, storageVersion INT NOT NULL DEFAULT 0, lastSync INT NOT NULL DEFAULT 0, archived INT NOT NULL DEFAULT 0"
        + (", isAdmin INT NOT NULL DEFAULT 0" if v9 else "")
        + cv
        + ")",
        "CREATE TABLE users (userID INTEGER PRIMARY KEY, name TEXT NOT NULL)",
        "CREATE TABLE groups (groupID INTEGER PRIMARY KEY, libraryID INT NOT NULL UNIQUE, name TEXT NOT NULL, description TEXT NOT NULL, version INT NOT NULL)",
        "CREATE TABLE groupItems (itemID INTEGER PRIMARY KEY, createdByUserID INT, lastModifiedByUserID INT)",
        "CREATE TABLE publicationsItems (itemID INTEGER PRIMARY KEY)",
        "CREATE TABLE retractedItems (itemID INTEGER PRIMARY KEY, data TEXT, flag INT DEFAULT 0)",
        "CREATE TABLE fulltextItems (itemID INTEGER PRIMARY KEY, indexedPages INT, totalPages INT, indexedChars INT, totalChars INT, version INT NOT NULL DEFAULT 0, synced INT NOT NULL DEFAULT 0)",
        "CREATE TABLE syncCache (libraryID INT NOT NULL, key TEXT NOT NULL, syncObjectTypeID INT NOT NULL, version INT NOT NULL, data TEXT, PRIMARY KEY (libraryID, key, syncObjectTypeID, version))",
        "CREATE TABLE syncDeleteLog (syncObjectTypeID INT NOT NULL, libraryID INT NOT NULL, key TEXT NOT NULL, dateDeleted TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, UNIQUE (syncObjectTypeID, libraryID, key))",
        "CREATE TABLE syncQueue (libraryID INT NOT NULL, key TEXT NOT NULL, syncObjectTypeID INT NOT NULL, lastCheck TIMESTAMP, tries INT, PRIMARY KEY (libraryID, key, syncObjectTypeID))",
        "CREATE TABLE storageDeleteLog (libraryID INT NOT NULL, key TEXT NOT NULL, dateDeleted TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (libraryID, key))",
        "CREATE TABLE proxies (proxyID INTEGER PRIMARY KEY, multiHost INT, autoAssociate INT, scheme TEXT)",
        "CREATE TABLE proxyHosts (hostID INTEGER PRIMARY KEY, proxyID INTEGER, hostname TEXT)",
        "CREATE TABLE relationPredicates (predicateID INTEGER PRIMARY KEY, predicate TEXT UNIQUE)",
        "CREATE TABLE translatorCache (fileName TEXT PRIMARY KEY, metadataJSON TEXT, lastModifiedTime INT)",
        "CREATE TABLE dbDebug1 (a INTEGER PRIMARY KEY)",
    ]
    if not v10:
        parts += [
            "CREATE TABLE fulltextWords (wordID INTEGER PRIMARY KEY, word TEXT UNIQUE)",
            "CREATE TABLE fulltextItemWords (wordID INT, itemID INT, PRIMARY KEY (wordID, itemID))",
        ]
    return ";\n".join(parts) + ";\n"


def install_schema(conn: sqlite3.Connection, zotero: int) -> None:
    """Create every table and fill the type/field/version tables as Zotero does."""
    conn.executescript(ddl(zotero))
    types, fields, creators = allocate_type_ids(zotero)
    conn.executemany(
        "INSERT INTO itemTypes VALUES (?, ?, NULL, 1)", [(i, n) for n, i in types.items()]
    )
    conn.executemany("INSERT INTO fields VALUES (?, ?, NULL)", [(i, n) for n, i in fields.items()])
    conn.executemany(
        "INSERT INTO creatorTypes VALUES (?, ?)", [(i, n) for n, i in creators.items()]
    )
    type_rows, base_rows, creator_rows = [], [], []
    for name, type_id in types.items():
        for order, (field, base) in enumerate(type_fields(name, zotero)):
            type_rows.append((type_id, fields[field], 0, order))
            if base:
                base_rows.append((type_id, fields[base], fields[field]))
        for n, ctype in enumerate(type_creators(name)):
            creator_rows.append((type_id, creators[ctype], int(n == 0)))
    conn.executemany("INSERT INTO itemTypeFields VALUES (?, ?, ?, ?)", type_rows)
    conn.executemany("INSERT INTO baseFieldMappings VALUES (?, ?, ?)", base_rows)
    conn.executemany("INSERT INTO itemTypeCreatorTypes VALUES (?, ?, ?)", creator_rows)
    # Zotero re-fills the Combined tables at every start-up from the base tables
    conn.executescript(
        """
        INSERT INTO itemTypesCombined SELECT itemTypeID, typeName, display, 0 FROM itemTypes;
        INSERT INTO fieldsCombined SELECT fieldID, fieldName, NULL, fieldFormatID, 0 FROM fields;
        INSERT INTO itemTypeFieldsCombined SELECT itemTypeID, fieldID, hide, orderIndex FROM itemTypeFields;
        INSERT INTO baseFieldMappingsCombined SELECT itemTypeID, baseFieldID, fieldID FROM baseFieldMappings;
        INSERT INTO charsets VALUES (1, 'utf-8'), (2, 'big5'), (3, 'euc-jp'), (4, 'euc-kr');
        INSERT INTO fileTypes VALUES (1,'webpage'),(2,'image'),(3,'pdf'),(4,'audio'),(5,'video'),
            (6,'document'),(7,'presentation'),(8,'ebook');
        INSERT INTO syncObjectTypes VALUES (1,'collection'),(2,'creator'),(3,'item'),(4,'search'),
            (5,'tag'),(6,'relation'),(7,'setting');
        """
    )
    userdata, global_schema, compat = VERSIONS[zotero]
    conn.executemany(
        "INSERT INTO version VALUES (?, ?)",
        [
            ("userdata", userdata),
            ("system", 32),
            ("triggers", 18),
            ("compatibility", compat),
            ("globalSchema", global_schema),
            ("translators", 1700000000),
            ("styles", 1700000000),
            ("delete", 74),
        ],
    )


def write_settings(conn: sqlite3.Connection, version: int, user_id: int) -> None:
    """Account/client rows a desktop writes (``userID`` only once the user has synced)."""
    release = {6: "6.0.37", 7: "7.0.0", 8: "8.0.0", 9: "9.0.0", 10: "10.0.0"}[version]
    rows: list[tuple[str, str, object]] = [
        ("account", "localUserKey", "Fx7rQ2zK"),
        ("client", "lastVersion", release),
        ("client", "lastCompatibleVersion", release),
    ]
    if user_id:
        rows += [("account", "userID", user_id), ("account", "username", "fixture-user")]
    if version >= 10:
        rows.append(("localAPI", "serverID", "fixture-server-0001"))
    conn.executemany("INSERT INTO settings VALUES (?, ?, ?)", rows)
