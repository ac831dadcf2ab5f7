/* test_server_hooks_units.c - unit tests of the webhook signing pieces:
 * HMAC-SHA256 (RFC 4231 vectors), base64 (RFC 4648 vectors, both
 * alphabets, bad input), the whsec_ key, a Standard Webhooks signature
 * and the URL label that logs and metrics show. */
#include "oaibatch.h"
#include "util/base64.h"
#include "util/sha256.h"
#include "metrics.h"
#include "webhook.h"
#include "testutil.h"

#include <string.h>

static void hex(const unsigned char *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

static void test_hmac(void)
{
    unsigned char mac[32], key[131];
    char h[65];
    /* RFC 4231 test case 1 */
    memset(key, 0x0b, 20);
    oab__hmac_sha256(key, 20, "Hi There", 8, mac);
    hex(mac, 32, h);
    CHECK_STR(h, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    /* test case 2: a short key */
    oab__hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
    hex(mac, 32, h);
    CHECK_STR(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* test case 6: a key longer than the block is hashed first */
    memset(key, 0xaa, 131);
    const char *m = "Test Using Larger Than Block-Size Key - Hash Key First";
    oab__hmac_sha256(key, 131, m, strlen(m), mac);
    hex(mac, 32, h);
    CHECK_STR(h, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_base64(void)
{
    static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba",
                                  "foobar"};
    static const char *enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==",
                                "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        oab__buf b = OAB__BUF_INIT;
        CHECK_OK(oab__base64_encode(plain[i], strlen(plain[i]), &b));
        CHECK_STR(b.data ? b.data : "", enc[i]);
        oab__buf d = OAB__BUF_INIT;
        CHECK_OK(oab__base64_decode(enc[i], strlen(enc[i]), &d));
        CHECK_EQ_INT(d.len, strlen(plain[i]));
        CHECK(d.len == 0 || !memcmp(d.data, plain[i], d.len));
        oab__buf_free(&b);
        oab__buf_free(&d);
    }
    oab__buf d = OAB__BUF_INIT;
    CHECK_OK(oab__base64_decode("-_8", 3, &d)); /* URL-safe alphabet */
    CHECK_EQ_INT(d.len, 2);
    CHECK(d.len == 2 && (unsigned char)d.data[0] == 0xfb &&
          (unsigned char)d.data[1] == 0xff);
    oab__buf_clear(&d);
    CHECK_EQ_INT(oab__base64_decode("ab$c", 4, &d), OAB_EJSON);
    oab__buf_clear(&d);
    CHECK_EQ_INT(oab__base64_decode("abcde", 5, &d), OAB_EJSON);
    oab__buf_free(&d);
}

static void test_sign(void)
{
    oab__buf key = OAB__BUF_INIT;
    /* whsec_ + base64("Jefe") */
    CHECK_EQ_INT(srv_webhook_key("whsec_SmVmZQ==", &key), 0);
    CHECK(key.len == 4 && !memcmp(key.data, "Jefe", 4));
    CHECK_EQ_INT(srv_webhook_key("plain-secret", &key), 0);
    CHECK(key.len == 12 && !memcmp(key.data, "plain-secret", 12));
    CHECK(srv_webhook_key("whsec_", &key) != 0);
    CHECK(srv_webhook_key("whsec_%%", &key) != 0);
    CHECK(srv_webhook_key(NULL, &key) != 0);
    oab__buf_free(&key);
    /* the signature is v1, + base64 of HMAC(key, "id.ts.body") */
    char sig[80];
    srv_webhook_sign((const unsigned char *)"Jefe", 4, "what do ya want",
                     12, "for nothing?", sig, sizeof sig);
    /* HMAC("Jefe", "what do ya want.12.for nothing?") computed here */
    unsigned char mac[32];
    const char *m = "what do ya want.12.for nothing?";
    oab__hmac_sha256("Jefe", 4, m, strlen(m), mac);
    oab__buf b = OAB__BUF_INIT;
    CHECK_OK(oab__base64_encode(mac, 32, &b));
    CHECK(!strncmp(sig, "v1,", 3));
    CHECK_STR(sig + 3, b.data);
    CHECK_EQ_INT(strlen(sig), 3 + 44);
    oab__buf_free(&b);
}

static void test_url_label(void)
{
    char out[128];
    srv_url_label("https://user:pw@example.com:8443/hook?token=x#f", out,
                  sizeof out);
    CHECK_STR(out, "https://example.com:8443/hook");
    srv_url_label("http://127.0.0.1:9/v1", out, sizeof out);
    CHECK_STR(out, "http://127.0.0.1:9/v1");
    srv_url_label("http://h/p@q?x=@", out, sizeof out);
    CHECK_STR(out, "http://h/p@q");
}

int main(void)
{
    test_hmac();
    test_base64();
    test_sign();
    test_url_label();
    return t_summary("test_server_hooks_units");
}
