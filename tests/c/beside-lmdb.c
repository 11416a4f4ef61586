/* A program with its own LMDB that also links liblmstore.a: its mdb_* calls must reach its own
 * LMDB (the system's liblmdb.a), while lmstore keeps using the copy inside liblmstore.a. */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lmstore.h"

#define CHECK(cond, ...) do { if (!(cond)) { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); exit(1); } } while (0)

int main(int argc, char **argv)
{
    CHECK(argc == 2, "usage: beside-lmdb DIR");
    int major, minor, patch;
    mdb_version(&major, &minor, &patch);
    CHECK(major == MDB_VERSION_MAJOR && minor == MDB_VERSION_MINOR && patch == MDB_VERSION_PATCH,
          "mdb_version() is %d.%d.%d but the program's lmdb.h is %d.%d.%d: lmstore's LMDB leaked",
          major, minor, patch, MDB_VERSION_MAJOR, MDB_VERSION_MINOR, MDB_VERSION_PATCH);

    /* The program's own environment. */
    char own[4096];
    snprintf(own, sizeof own, "%s/own", argv[1]);
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = {3, "key"}, v = {5, "value"};
    CHECK(mdb_env_create(&env) == 0, "mdb_env_create");
    CHECK(mdb_env_open(env, own, 0, 0600) == 0, "mdb_env_open %s", own);
    CHECK(mdb_txn_begin(env, NULL, 0, &txn) == 0, "mdb_txn_begin");
    CHECK(mdb_dbi_open(txn, NULL, 0, &dbi) == 0, "mdb_dbi_open");
    CHECK(mdb_put(txn, dbi, &k, &v, 0) == 0, "mdb_put");
    CHECK(mdb_txn_commit(txn) == 0, "mdb_txn_commit");

    /* An lmstore beside it. */
    char store[4096];
    snprintf(store, sizeof store, "%s/store", argv[1]);
    lms_db *db = NULL;
    int rc = lms_open(store, strlen(store), NULL, &db);
    CHECK(rc == LMS_OK, "lms_open: %d %s", rc, lms_last_error());
    static const uint8_t spec[] = {0x82, 0xa2, 'i', 'd', 0xa1, 't', 0xa8, 't', 'e', 'm', 'p', 'l',
                                   'a', 't', 'e', 0xa2, 'h', 'i'};
    rc = lms_put_template(db, spec, sizeof spec, 0, NULL);
    CHECK(rc == LMS_OK, "lms_put_template: %d %s", rc, lms_last_error());
    lms_stats st;
    CHECK(lms_stat(db, &st) == LMS_OK, "lms_stat");
    CHECK(st.template_ids == 1, "template_ids %llu", (unsigned long long)st.template_ids);
    /* The program's LMDB still reads its own data. */
    MDB_val got;
    CHECK(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0, "mdb_txn_begin(read)");
    CHECK(mdb_get(txn, dbi, &k, &got) == 0 && got.mv_size == 5 && memcmp(got.mv_data, "value", 5) == 0,
          "mdb_get");
    mdb_txn_abort(txn);
    mdb_env_close(env);
    lms_close(db);
    printf("beside-lmdb: own LMDB %d.%d.%d and lmstore (LMDB %u) in one program\n", major, minor,
           patch, st.lmdb_version);
    return 0;
}
