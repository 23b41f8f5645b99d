"""DDL for building real-schema ``zotero.sqlite`` fixtures, and the rows a desktop fills in.

Written from the reference facts (``userdata.sql``/``system.sql``/``triggers.sql`` shapes of
Zotero 6.0.37, 7.0.0, 9.0.0 and 10.0.0), not copied from Zotero. The point of the fixture is
to be *faithful where readers go wrong*:

* type, field and creator-type IDs differ between database ages (see
  :mod:`zotsync.testing.zotero_types`), so a reader that hard-codes an ID fails;
* Zotero 10 adds ``clientVersion``/``*Normalized`` columns, drops the fulltext word tables and
  uses WAL, so a reader that assumes one column set fails;
* ``*Combined`` tables are filled like Zotero fills them at start-up.

The type tables are re-exported here, so ``from zotsync.testing.zotero_schema import
DATE_FIELDS`` keeps working.
"""

from __future__ import annotations

import sqlite3

from zotsync.testing.zotero_types import (
    DATE_FIELDS,
    ITEM_TYPES,
    LEGACY_CREATOR_IDS,
    LEGACY_FIELD_IDS,
    LEGACY_TYPE_IDS,
    NON_REGULAR,
    allocate_type_ids,
    type_creators,
    type_fields,
)

__all__ = [
    "DATE_FIELDS",
    "ITEM_TYPES",
    "LEGACY_CREATOR_IDS",
    "LEGACY_FIELD_IDS",
    "LEGACY_TYPE_IDS",
    "NON_REGULAR",
    "TRIGGERS",
    "VERSIONS",
    "allocate_type_ids",
    "ddl",
    "install_schema",
    "type_creators",
    "type_fields",
    "write_settings",
]

#: Zotero major version -> (userdata, globalSchema, compatibility)
VERSIONS = {6: (121, 21, 7), 7: (123, 31, 7), 8: (123, 41, 7), 9: (125, 41, 7), 10: (129, 41, 9)}


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
