/* Mappings resolved against the schemas (mapping.c), the target tables they
 * create (target_ddl.c), the checks that need the target (mapping_check.c),
 * application roles (roles.c), type mapping across engines (typemap.c) and
 * the plan's notes (plan.c, plan_types.c). */
#ifndef SEGUE_MAPPING_H
#define SEGUE_MAPPING_H

#include "internal.h"

/* Resolves the spec's mappings against the source (and, when it exists,
 * target) schema: tables, keys, columns, expressions, reverse. Errors are
 * SG_ESPEC with file:line. */
int sg_mapping_resolve(sg_migration *m);
void sg_mapping_free(sg_migration *m);
/* Sets mp->target_ddl (CREATE TABLE in the target's terms), mp->col_types
 * and mp->from_types from the resolved forward flow. SG_ENOMEM. */
int sg_mapping_target_ddl(sg_migration *m, sg_map *mp);
/* create: true (target_index.c): the source's secondary indexes the target
 * gets after the backfill (mp->indexes), and a note for each that cannot be
 * carried (mp->carry_notes). SG_EDB, SG_ENOMEM. */
int sg_mapping_target_indexes(sg_migration *m, sg_map *mp);
void sg_mapping_target_indexes_free(sg_map *mp);
/* Index i of mp as the driver builds it; d borrows from mp. */
void sg_mapping_index_def(const sg_map *mp, size_t i, sg_index_def *d);

/* What depends on the source table of group g (dependents.c): foreign keys
 * of other tables pointing at it (not of this migration's other sources),
 * views, triggers and functions that name it, as one line "foreign key
 * FK_x on InvoiceLine; view film_list" into *line (caller frees; NULL when
 * none). sg_dependents_check: SG_ESTATE naming the first source table
 * with any (cleanup --drop-source refuses). sg_dependents_drop_order: the
 * groups in an order that drops a table before the tables it references
 * (order has n_groups entries). SG_EDB, SG_ENOMEM. */
int sg_dependents_of(sg_migration *m, size_t g, char **line);
int sg_dependents_check(sg_migration *m);
int sg_dependents_drop_order(sg_migration *m, size_t *order);
/* The same for any n tables of c: order (n entries) lists a table before
 * the tables it references by foreign key (a cycle is broken anywhere).
 * SG_EDB, SG_ENOMEM. */
int sg_dependents_order(sg_conn *c, const char *const *tables, size_t n, size_t *order,
                        sg_err *err);

/* mappings: all (all_tables.c). sg_all_expand fills the spec's mappings
 * when the migration is opened: the tables start recorded, or else every
 * table of the source (driver's tables) but the excluded ones and those
 * without a primary key (kept in m->keyless), each after the tables it
 * references, as `from: T, to: T, create: true`; SG_ESPEC (at the
 * `mappings:` line) for the same database as target, an excluded name that
 * is no table, or no table at all. sg_all_record, in start's target
 * transaction, records the list, so a table made on the source later is
 * not taken in. sg_all_check_keys: SG_ESPEC naming the keyless tables
 * (plan blocks, start refuses). */
int sg_all_expand(sg_migration *m);
int sg_all_record(sg_migration *m);
int sg_all_check_keys(sg_migration *m);

/* foreign_keys: true (target_fk.c). sg_mapping_target_fks, once every
 * mapping is resolved: each such mapping's mp->fks (SG_ESPEC without
 * create: true; a note for each key it cannot carry; on an engine that
 * makes them with the table only, they go into mp->target_ddl).
 * sg_mapping_fks_switch adds (or drops) them on a target engine that adds
 * them to tables that exist, inside a write switch's transaction; nothing
 * elsewhere. sg_mapping_target_column: the target column source column
 * `col` of mp is copied into as it is, or NULL; sg_mapping_of_source: the
 * first mapping that reads source table `table`, or NULL. */
int sg_mapping_target_fks(sg_migration *m);
int sg_mapping_fks_switch(sg_migration *m, bool add);
const char *sg_mapping_target_column(const sg_migration *m, const sg_map *mp, const char *col);
const sg_map *sg_mapping_of_source(const sg_migration *m, const char *table);

/* Rewrites an expression over source columns into one over target columns
 * (out), token by token (the text is not parsed for meaning). 0; 1 with
 * why (size bytes) set when it cannot be: a column the mapping does not
 * copy as it is, or (across engines) a function call or cast spelled for
 * the source's engine. */
int sg_mapping_map_expr(sg_migration *m, const sg_map *mp, const char *text, sg_buf *out,
                        char *why, size_t size);
/* A declared type for a column made from expression e where the source
 * engine gives none (expr_type.c); caller frees; NULL: none known. */
char *sg_mapping_guess_type(sg_migration *m, const sg_map *mp, const char *e);

/* Shared by the files of plan/. An SG_ESPEC error "path:line: what". */
int sg_mapping_spec_fail(sg_migration *m, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* If expr is a bare (optionally quoted) column name of t, its index; else -1. */
int sg_mapping_plain_ref(sg_conn *c, const sg_table_info *t, const char *expr);
/* Prepares "SELECT <what> FROM <table> [WHERE <where>] LIMIT 0" on c to let
 * the engine judge an expression; with `type`, *type receives a copy of the
 * engine's type of the first column, or NULL (caller frees). */
int sg_mapping_try_expr(sg_conn *c, const char *table, const char *what,
                        const char *where, char **type, sg_err *err);
/* Appends to mp->carry_notes. 0, or -1 out of memory. */
int sg_mapping_carry_note(sg_map *mp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Whether t has a primary key or unique index on exactly columns cols[0..n). */
bool sg_mapping_unique_on(const sg_table_info *t, const int *cols, size_t n);
/* Finalizes every statement the flows prepared (they are prepared again on
 * use), e.g. before a lost connection is replaced. */
void sg_mapping_close_statements(sg_migration *m);
/* Across engines (typemap.c): the target engine's spelling of a source
 * column type (NULL or "": none declared; caller frees), and the column
 * types a mapping's flows conform values to. Same engine: no conforming. */
bool sg_typemap_crossing(const sg_migration *m);
char *sg_typemap_column(const sg_migration *m, const char *src_decl);
int sg_typemap_flows(sg_migration *m, sg_map *mp);
void sg_typemap_free(sg_flow *f);
/* Plan (plan.c, plan_types.c): adds a warning or blocker; and the notes on
 * mapping i's column types across engines, from its type pairs and one scan
 * of the source counting rows the target would narrow or refuse. */
int sg_plan_note(sg_err *e, sg_plan *p, bool blocker, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int sg_plan_types(sg_migration *m, size_t i, sg_plan *p);
/* The compatibility report's lines for mapping i (compat.c) into p;
 * backfilled: the phase is past the index build. */
int sg_plan_compat_map(sg_migration *m, size_t i, sg_plan *p, bool backfilled);
/* The way back (DESIGN.md "Safety rules"): whether mapping i's reverse
 * flow leaves a source column that is NOT NULL with no default unwritten,
 * so a row inserted on the target could not reach the source; msg (size
 * bytes) says which, with file:line and a hint. Returns 1 when it does.
 * sg_mapping_check_reverse: SG_ESPEC for the first mapping that does. */
int sg_mapping_reverse_gap(sg_migration *m, size_t i, char *msg, size_t size);
int sg_mapping_check_reverse(sg_migration *m);
/* Application roles: the roles that use mapping i's source table, each
 * with its privileges and whether it keeps working on the target after the
 * cutover ("appuser (INSERT, SELECT): keeps working; ..."), into *roles
 * (caller frees; NULL when there are none or the engines have no roles;
 * roles may be NULL). When one would fail (no such role in the target
 * database, or privileges the target table lacks), msg (size bytes) gets
 * a blocker with file:line and the statements that fix it, and 1 is
 * returned; 0 when none would; or an error. sg_mapping_check_grants:
 * SG_ESPEC for the first mapping with one. */
int sg_mapping_roles(sg_migration *m, size_t i, char **roles, char *msg, size_t size);
int sg_mapping_check_grants(sg_migration *m);
/* The first mapping that says reverse: none, or NULL. */
const sg_map *sg_mapping_no_way_back(const sg_migration *m);
/* One line on the columns added to sources since start (not copied), ""
 * when none; out has size bytes. */
void sg_mapping_drift_note(const sg_migration *m, char *out, size_t size);
/* Checks the parts that need the target tables to exist (after start or for
 * create: false): columns, key uniqueness, reverse expressions; before
 * start (!created) also the tables mappings: all cannot take. */
int sg_mapping_check_target(sg_migration *m, bool created);

/* Two databases of one engine that can attach: the source is attached to
 * the target's connection read-only and every mapping whose expressions and
 * filter read only its own table copies in-engine (INSERT ... SELECT), as
 * within one database. Where they cannot, rows stream. Outside any
 * transaction; never fails (streaming is the fallback). */
void sg_mapping_attach_source(sg_migration *m);

#endif
