/* SPDX-License-Identifier: MIT */
/* The keyring: the store's first key and its file mode, refusing a key file others can read,
 * rotation (old keys verify until retired), and trusting other stores' and partners' keys, with
 * real OpenSSL keys and real files. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "voucher_fixture.h"

static void test_first_key_is_made_once_with_mode_0600(void **state)
{
    (void)state;
    struct test_store t = {0};
    struct patron_key_info keys[4];
    struct stat st;
    char path[600];
    size_t n = 0;
    int id = 0;
    vfix_open(&t, 3, NULL);
    /* Called inside a transaction, as store init does; a second call changes nothing. */
    assert_int_equal(patron__tx_begin(t.s), 0);
    assert_int_equal(patron__keyring_ensure(t.s, &id), 0);
    assert_int_equal(patron__tx_commit(t.s), 0);
    assert_int_equal(id, 3); /* the store id, so stores of a chain differ */
    assert_int_equal(patron_keyring_list(t.s, keys, 4, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(keys[0].kind, "own");
    assert_string_equal(keys[0].status, "active");
    assert_int_equal(strlen(keys[0].fingerprint), 16);
    snprintf(path, sizeof path, "%s/keys/key-3.pem", t.dir);
    assert_string_equal(keys[0].file, path);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(path, sizeof path, "%s/keys", t.dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0077, 0);
    test_store_close(&t);
}

static void test_key_file_readable_by_others_is_refused(void **state)
{
    (void)state;
    struct test_store t = {0};
    struct patron__voucher_spec spec = {.kind = PATRON_VALUE_AMOUNT, .value = 1, .valid_hours = 1};
    struct patron__voucher_issued out;
    char path[600];
    vfix_open(&t, 1, NULL);
    snprintf(path, sizeof path, "%s/keys/key-1.pem", t.dir);
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(patron__tx_begin(t.s), 0);
    assert_int_equal(patron__voucher_issue(t.s, &spec, &out), PATRON_EKEYPERM);
    patron__tx_rollback(t.s);
    assert_non_null(strstr(patron_store_detail(t.s), path));
    assert_non_null(strstr(patron_store_detail(t.s), "chmod 600"));
    assert_int_equal(chmod(path, 0600), 0);
    vfix_issue(&t, &spec, &out);
    test_store_close(&t);
}

static void test_rotation_signs_new_verifies_old_until_retired(void **state)
{
    (void)state;
    struct test_store t = {0};
    struct patron__voucher_issued old, fresh;
    int id = 0;
    vfix_open(&t, 1, NULL);
    vfix_issue(&t, NULL, &old);
    assert_int_equal(old.key_id, 1);
    assert_int_equal(patron_keyring_rotate(t.s, 0, &id), 0);
    assert_int_equal(id, 2);
    vfix_issue(&t, NULL, &fresh);
    assert_int_equal(fresh.key_id, 2);
    assert_int_equal(vfix_check(&t, old.token), 0);
    assert_int_equal(vfix_check(&t, fresh.token), 0);
    /* The signing key cannot be retired; an old one can, and its vouchers stop. */
    assert_int_equal(patron_keyring_retire(t.s, 2), PATRON_EINVAL);
    assert_int_equal(patron_keyring_retire(t.s, 1), 0);
    assert_int_equal(vfix_check(&t, old.token), PATRON_ERETIRED);
    assert_non_null(strstr(patron_store_detail(t.s), "key 1 was retired"));
    assert_int_equal(vfix_check(&t, fresh.token), 0);
    assert_int_equal(patron_keyring_retire(t.s, 99), PATRON_ENOTFOUND);
    /* Head office may assign the id; a taken one is refused. */
    assert_int_equal(patron_keyring_rotate(t.s, 2, &id), PATRON_EINVAL);
    assert_int_equal(patron_keyring_rotate(t.s, 40, &id), 0);
    assert_int_equal(id, 40);
    test_store_close(&t);
}

/* Writes store `from`'s public key `key_id` to DIR/key-N.pub.pem and returns the path. */
static void export_key(struct test_store *from, int key_id, const char *dir, char *path, size_t cap)
{
    char pem[256];
    assert_int_equal(patron_keyring_export(from->s, key_id, pem, sizeof pem), 0);
    assert_non_null(strstr(pem, "BEGIN PUBLIC KEY"));
    snprintf(path, cap, "%s/key-%d.pub.pem", dir, key_id);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(pem, f);
    fclose(f);
}

static void test_partner_key_verifies_only_once_trusted(void **state)
{
    (void)state;
    struct test_store a = {0}, partner = {0}, impostor = {0};
    struct patron__voucher_issued pv, iv;
    struct patron_voucher_request req = {0};
    struct patron_voucher_result res;
    char chain[33], path[600];
    int id = 0;
    vfix_open(&a, 1, NULL);
    vfix_open(&partner, 2, NULL);  /* another business: its own chain */
    vfix_open(&impostor, 1, NULL); /* same key id as a's own key, another key */
    vfix_issue(&partner, NULL, &pv);
    vfix_issue(&impostor, NULL, &iv);
    assert_int_equal(vfix_check(&a, pv.token), PATRON_EUNKNOWNKEY);
    assert_non_null(strstr(patron_store_detail(a.s), "key 2"));
    assert_int_equal(vfix_check(&a, iv.token), PATRON_EBADSIG);
    /* Trusted with the partner's chain: its vouchers verify, marked foreign. */
    export_key(&partner, 2, a.dir, path, sizeof path);
    vfix_chain(&partner, chain);
    assert_int_equal(patron_keyring_trust(a.s, path, "Bakery Partner", chain, 0, &id), 0);
    assert_int_equal(id, 2);
    req.token_or_code = pv.token;
    assert_int_equal(patron_voucher_check(a.s, &req, &res), 0);
    assert_true(res.foreign);
    assert_int_equal(res.voucher.value, 500);
    /* Trusted under our own chain, the same key's vouchers do not verify: the chain is signed. */
    struct test_store b = {0};
    vfix_open(&b, 5, NULL);
    assert_int_equal(patron_keyring_trust(b.s, path, "Bakery Partner", NULL, 0, &id), 0);
    assert_int_equal(vfix_check(&b, pv.token), PATRON_EBADSIG);
    /* A key id already in the keyring is refused; so is a file with no key. */
    assert_int_equal(patron_keyring_trust(a.s, path, "Again", chain, 0, &id), PATRON_EINVAL);
    assert_int_equal(patron_keyring_trust(a.s, a.path, "X", chain, 9, &id), PATRON_EINVAL);
    test_store_close(&b);
    test_store_close(&impostor);
    test_store_close(&partner);
    test_store_close(&a);
}

static void test_chain_store_key_trusted_without_chain_id(void **state)
{
    (void)state;
    struct test_store a = {0}, other = {0};
    struct patron__voucher_issued v;
    struct patron_key_info keys[4];
    char chain[33], path[600];
    size_t n = 0;
    int id = 0;
    vfix_open(&a, 1, NULL);
    vfix_chain(&a, chain);
    vfix_open(&other, 2, chain);
    vfix_issue(&other, NULL, &v);
    export_key(&other, 2, a.dir, path, sizeof path);
    assert_int_equal(patron_keyring_trust(a.s, path, "Store 2", NULL, 0, &id), 0);
    assert_int_equal(vfix_check(&a, v.token), 0);
    assert_int_equal(patron_keyring_list(a.s, keys, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(keys[1].kind, "chain");
    assert_string_equal(keys[1].status, "verify");
    assert_string_equal(keys[1].partner, "Store 2");
    assert_string_equal(keys[1].chain_id, chain);
    test_store_close(&other);
    test_store_close(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_key_is_made_once_with_mode_0600),
        cmocka_unit_test(test_key_file_readable_by_others_is_refused),
        cmocka_unit_test(test_rotation_signs_new_verifies_old_until_retired),
        cmocka_unit_test(test_partner_key_verifies_only_once_trusted),
        cmocka_unit_test(test_chain_store_key_trusted_without_chain_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
