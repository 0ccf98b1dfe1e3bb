/*
 * test_vault_blocks_azure.c - large objects sent as blocks (Put Block in
 * parallel, then Put Block List) by vault/backend_azure.c, against
 * Azurite: a multi-block round trip, a
 * block answered 503 once and sent again, write-once of the block-list
 * commit, and the fault wrapper (vault__backend_stack) over a block upload.
 *
 * The backend reaches Azurite through a small HTTP proxy in this file,
 * which counts the requests by kind, records the commit's status and the
 * Content-MD5 of HEAD answers, and can answer the first Put Block of a
 * given block 503 without passing it on.
 *
 * Run by azurite-run.sh (SYSVAULT_AZURE_ENDPOINT / SYSVAULT_AZURE_KEY);
 * without them the test says why and exits 77 (skipped).
 */
#include "sv_test_sock.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "sv_env.h"
#include "sv_test.h"
#include "sv_thread.h"
#include "vault_int.h"

#define SKIP_CODE 77
#define MIB ((size_t)1 << 20)
/* Five blocks of 4 MiB, the last one short. */
#define BIG_LEN (18 * MIB + 12345)
#define HEAD_MAX 16384

/* ---- the proxy ---- */

typedef struct proxy {
	sock_t lsock;
	int port, up_port;
	sv_thread *acceptor;
	sv_mutex *mu;
	sv_thread *conns[64];
	int nconns;
	/* counted requests */
	int blocks;	     /* Put Block requests that arrived */
	int block_lists;     /* Put Block List requests */
	int whole_puts;	     /* Put Blob requests */
	long commit_status;  /* the last Put Block List's status */
	char fail_block[64]; /* "blockid=..." suffix to answer 503 once */
	int fail_left;
	int failed;	   /* 503s answered */
	char head_md5[64]; /* Content-MD5 of the last HEAD answer */
} proxy;

typedef struct pconn {
	proxy *p;
	sock_t fd;
} pconn;

static int send_all(sock_t fd, const char *p, size_t n)
{
	while (n > 0) {
		int k = send(fd, p, (int)(n > 65536 ? 65536 : n), SEND_FLAGS);

		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Reads a message head (up to the blank line) into head; the bytes read
 * past it stay in *extra (count in *nextra). */
static int read_head(sock_t fd, char *head, char *extra, size_t *nextra)
{
	size_t n = 0;
	char *end;

	for (;;) {
		int k = recv(fd, head + n, (int)(HEAD_MAX - 1 - n), 0);

		if (k <= 0)
			return -1;
		n += (size_t)k;
		head[n] = '\0';
		if ((end = strstr(head, "\r\n\r\n")) != NULL)
			break;
		if (n == HEAD_MAX - 1)
			return -1;
	}
	end += 4;
	*nextra = n - (size_t)(end - head);
	memcpy(extra, end, *nextra);
	*end = '\0';
	return 0;
}

static int name_is(const char *p, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (tolower((unsigned char)p[i]) !=
		    tolower((unsigned char)name[i]))
			return 0;
	return p[n] == ':';
}

/* The value of a header in head ("" when absent). */
static void header_value(const char *head, const char *name, char *out,
			 size_t size)
{
	const char *p = head;
	size_t nl = strlen(name);

	out[0] = '\0';
	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (name_is(p, name, nl)) {
			const char *v = p + nl + 1, *e;

			while (*v == ' ')
				v++;
			e = strstr(v, "\r\n");
			snprintf(out, size, "%.*s", (int)(e - v), v);
			return;
		}
	}
}

static size_t content_length(const char *head)
{
	char v[32];

	header_value(head, "Content-Length", v, sizeof(v));
	return v[0] ? (size_t)strtoull(v, NULL, 10) : 0;
}

/* Reads the rest of a body of len bytes (have already in buf). */
static char *read_body(sock_t fd, const char *have, size_t nhave, size_t len)
{
	char *b = malloc(len + 1);
	size_t n = nhave < len ? nhave : len; /* nothing is pipelined */

	assert_non_null(b);
	memcpy(b, have, n);
	while (n < len) {
		int k = recv(fd, b + n,
			     (int)(len - n > 65536 ? 65536 : len - n), 0);

		if (k <= 0) {
			free(b);
			return NULL;
		}
		n += (size_t)k;
	}
	return b;
}

/* A chunked body (Azurite's error answers), relayed as it came: read
 * until the last chunk; the answers are small. */
static char *read_chunked(sock_t fd, const char *have, size_t nhave,
			  size_t *len)
{
	size_t cap = 1 << 20, n = nhave;
	char *b = malloc(cap + 1);

	assert_non_null(b);
	assert_true(nhave <= cap);
	memcpy(b, have, nhave);
	for (;;) {
		int k;

		b[n] = '\0';
		if ((n >= 5 && strncmp(b, "0\r\n\r\n", 5) == 0) ||
		    (n >= 7 && strcmp(b + n - 7, "\r\n0\r\n\r\n") == 0))
			break;
		if (n == cap || (k = recv(fd, b + n, (int)(cap - n), 0)) <= 0) {
			free(b);
			return NULL;
		}
		n += (size_t)k;
	}
	*len = n;
	return b;
}

static sock_t connect_up(int port)
{
	struct sockaddr_in a;
	sock_t s = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((unsigned short)port);
	if (s != SOCK_BAD &&
	    connect(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
		sock_close(s);
		s = SOCK_BAD;
	}
	return s;
}

/* Passes one request to Azurite and its answer back; 0 when done. */
static int relay(proxy *p, sock_t fd, const char *head, const char *body,
		 size_t blen)
{
	sock_t up = connect_up(p->up_port);
	char *rhead = malloc(HEAD_MAX), *rextra = malloc(HEAD_MAX);
	char *rbody = NULL, status[16] = {0};
	size_t nextra, rlen;
	int rc = -1, is_head = strncmp(head, "HEAD ", 5) == 0;

	if (up == SOCK_BAD || !rhead || !rextra ||
	    send_all(up, head, strlen(head)) != 0 ||
	    send_all(up, body, blen) != 0 ||
	    read_head(up, rhead, rextra, &nextra) != 0)
		goto done;
	rlen = is_head ? 0 : content_length(rhead);
	header_value(rhead, "Transfer-Encoding", status, sizeof(status));
	rbody = status[0] ? read_chunked(up, rextra, nextra, &rlen)
			  : read_body(up, rextra, nextra, rlen);
	if (rbody == NULL)
		goto done;
	memcpy(status, rhead + 9, 3);
	status[3] = '\0';
	sv_mutex_lock(p->mu);
	if (strstr(head, "comp=blocklist"))
		p->commit_status = strtol(status, NULL, 10);
	if (is_head)
		header_value(rhead, "Content-MD5", p->head_md5,
			     sizeof(p->head_md5));
	sv_mutex_unlock(p->mu);
	rc = send_all(fd, rhead, strlen(rhead)) || send_all(fd, rbody, rlen);
done:
	free(rhead);
	free(rextra);
	free(rbody);
	if (up != SOCK_BAD)
		sock_close(up);
	return rc;
}

/* Counts the request; 1 when it is to be answered 503 here. */
static int classify(proxy *p, const char *head)
{
	const char *eol = strstr(head, "\r\n");
	char line[1024];
	int fail = 0;

	snprintf(line, sizeof(line), "%.*s", (int)(eol - head), head);
	sv_mutex_lock(p->mu);
	if (strstr(line, "comp=blocklist"))
		p->block_lists++;
	else if (strstr(line, "comp=block&")) {
		p->blocks++;
		if (p->fail_left > 0 && p->fail_block[0] &&
		    strstr(line, p->fail_block)) {
			p->fail_left--;
			p->failed++;
			fail = 1;
		}
	} else if (strncmp(line, "PUT ", 4) == 0 && !strchr(line, '?'))
		p->whole_puts++;
	sv_mutex_unlock(p->mu);
	return fail;
}

static const char busy[] = "HTTP/1.1 503 Server Busy\r\n"
			   "x-ms-error-code: ServerBusy\r\n"
			   "Content-Length: 0\r\n\r\n";

static void conn_main(void *arg)
{
	pconn *c = arg;
	char *head = malloc(HEAD_MAX), *extra = malloc(HEAD_MAX), *body;
	size_t nextra, blen;

	for (;;) {
		if (read_head(c->fd, head, extra, &nextra) != 0)
			break;
		blen = content_length(head);
		if ((body = read_body(c->fd, extra, nextra, blen)) == NULL)
			break;
		if (classify(c->p, head)
			    ? send_all(c->fd, busy, strlen(busy))
			    : relay(c->p, c->fd, head, body, blen)) {
			free(body);
			break;
		}
		free(body);
	}
	sock_close(c->fd);
	free(head);
	free(extra);
	free(c);
}

static void acceptor_main(void *arg)
{
	proxy *p = arg;

	for (;;) {
		sock_t fd = accept(p->lsock, NULL, NULL);
		pconn *c;

		if (fd == SOCK_BAD)
			return;
		c = malloc(sizeof(*c));
		c->p = p;
		c->fd = fd;
		sv_mutex_lock(p->mu);
		if (p->nconns == 64 ||
		    sv_thread_start(&p->conns[p->nconns], conn_main, c) != 0) {
			sock_close(fd);
			free(c);
		} else
			p->nconns++;
		sv_mutex_unlock(p->mu);
	}
}

static proxy *proxy_start(int up_port)
{
	proxy *p = calloc(1, sizeof(*p));
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->up_port = up_port;
	p->lsock = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(p->lsock != SOCK_BAD);
	assert_int_equal(bind(p->lsock, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(p->lsock, 64), 0);
	assert_int_equal(getsockname(p->lsock, (struct sockaddr *)&a, &len), 0);
	p->port = ntohs(a.sin_port);
	sv_assert_ok(sv_mutex_new(&p->mu));
	sv_assert_ok(sv_thread_start(&p->acceptor, acceptor_main, p));
	return p;
}

/* Call once the backend is closed (its connections are gone). */
static void proxy_stop(proxy *p)
{
#ifdef _WIN32
	closesocket(p->lsock);
#else
	shutdown(p->lsock, SHUT_RDWR);
	close(p->lsock);
#endif
	sv_thread_join(p->acceptor);
	while (p->nconns > 0)
		sv_thread_join(p->conns[--p->nconns]);
	sv_mutex_free(p->mu);
	free(p);
}

/* ---- fixtures ---- */

static int azurite_port;
static char *account_key;
static char container[32];

static void fill(uint8_t *d, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		d[i] = (uint8_t)x;
	}
}

static uint8_t *big(uint64_t seed)
{
	uint8_t *d = malloc(BIG_LEN);

	assert_non_null(d);
	fill(d, BIG_LEN, seed);
	return d;
}

/* The backend (under the retry layer, and the fault wrapper when faults
 * is given) reaching Azurite through p, with four transfers. */
static vault_backend *open_via(proxy *p, const char *prefix, const char *faults)
{
	vault_backend *leaf = NULL, *b = NULL;
	vault_access acc = {0};
	char *endpoint =
		sv_aprintf("http://127.0.0.1:%d/devstoreaccount1", p->port);
	char *url =
		sv_aprintf("azure://devstoreaccount1/%s/%s", container, prefix);

	acc.endpoint = endpoint;
	acc.secret = account_key;
	acc.transfers = 4;
	sv_assert_ok(vault__backend_azure_open(&leaf, url, &acc, 1));
	sv_assert_ok(vault__backend_stack(&b, leaf, faults));
	free(endpoint);
	free(url);
	return b;
}

static const char pack[] =
	"data/cd/"
	"cd00000000000000000000000000000000000000000000000000000000000001";

static void assert_stored(vault_backend *b, const uint8_t *want)
{
	sv_buf out;

	sv_buf_init(&out, BIG_LEN + 1);
	sv_assert_ok(b->ops->get(b, pack, 0, UINT64_MAX, &out));
	assert_int_equal(out.len, BIG_LEN);
	assert_memory_equal(out.ptr, want, BIG_LEN);
	sv_buf_release(&out);
}

/* ---- tests ---- */

static void test_blocks__large_object_round_trip(void **state)
{
	proxy *p = proxy_start(azurite_port);
	vault_backend *b = open_via(p, "rt", NULL);
	uint8_t *d = big(1), digest[16];
	uint64_t size = 0;
	sv_buf out, md5;

	(void)state;
	sv_buf_init(&out, 8 * MIB);
	sv_buf_init(&md5, 64);
	sv_assert_ok(b->ops->put(b, pack, d, BIG_LEN));
	/* five blocks and one commit, no Put Blob */
	assert_int_equal(p->blocks, 5);
	assert_int_equal(p->block_lists, 1);
	assert_int_equal(p->commit_status, 201);
	assert_int_equal(p->whole_puts, 0);
	sv_assert_ok(b->ops->stat(b, pack, &size));
	assert_int_equal(size, BIG_LEN);
	/* no whole-object MD5 (each block had its own) */
	assert_string_equal(p->head_md5, "");
	/* whole and across block boundaries */
	assert_stored(b, d);
	sv_assert_ok(b->ops->get(b, pack, 4 * MIB - 10, 20, &out));
	assert_memory_equal(out.ptr, d + 4 * MIB - 10, 20);
	sv_buf_reset(&out);
	sv_assert_ok(b->ops->get(b, pack, BIG_LEN - 7, 7, &out));
	assert_memory_equal(out.ptr, d + BIG_LEN - 7, 7);
	/* a small object still goes whole, with its MD5 stored */
	sv_assert_ok(b->ops->put(b, "config", "{}", 2));
	assert_int_equal(p->whole_puts, 1);
	sv_assert_ok(b->ops->stat(b, "config", &size));
	sv_assert_ok(vault__md5(digest, "{}", 2));
	sv_assert_ok(vault__b64_encode(&md5, digest, sizeof(digest)));
	assert_string_equal(p->head_md5, md5.ptr);
	sv_buf_release(&out);
	sv_buf_release(&md5);
	free(d);
	vault__backend_close(b);
	proxy_stop(p);
}

static void test_blocks__a_failed_block_is_sent_again(void **state)
{
	proxy *p = proxy_start(azurite_port);
	vault_backend *b = open_via(p, "retry", NULL);
	uint8_t *d = big(2);

	(void)state;
	/* block 3 (of 0..4): the id is base64 of 12 bytes, the last three
	 * of them the low bytes of the block number: "...AAAD" */
	snprintf(p->fail_block, sizeof(p->fail_block), "AAAD HTTP/");
	p->fail_left = 1;
	sv_assert_ok(b->ops->put(b, pack, d, BIG_LEN));
	assert_int_equal(p->failed, 1);
	assert_int_equal(p->blocks, 6); /* five, one of them twice */
	assert_int_equal(p->block_lists, 1);
	assert_true(atomic_load(&b->inner->retries) >= 1);
	assert_stored(b, d);
	free(d);
	vault__backend_close(b);
	proxy_stop(p);
}

static void test_blocks__commit_is_write_once(void **state)
{
	proxy *p = proxy_start(azurite_port);
	vault_backend *b = open_via(p, "once", NULL);
	uint8_t *d = big(3), *other = big(4);

	(void)state;
	sv_assert_ok(b->ops->put(b, pack, d, BIG_LEN));
	/* the same bytes again: the commit is refused (409) and the stored
	 * object found equal -- a retried upload meeting itself */
	sv_assert_ok(b->ops->put(b, pack, d, BIG_LEN));
	assert_int_equal(p->commit_status, 409);
	/* other bytes: refused, the stored object left as it was */
	assert_int_equal(b->ops->put(b, pack, other, BIG_LEN), SV_EEXISTS);
	assert_non_null(strstr(sv_error_msg(), "already exists"));
	assert_int_equal(p->commit_status, 409);
	assert_int_equal(p->block_lists, 3);
	assert_stored(b, d);
	free(d);
	free(other);
	vault__backend_close(b);
	proxy_stop(p);
}

static void test_blocks__fault_wrapper_over_a_block_upload(void **state)
{
	proxy *p = proxy_start(azurite_port);
	/* half of the operations fail: resets (some after the commit went
	 * through) and 503s, retried by the resilience layer */
	vault_backend *b = open_via(p, "fault",
				    "seed=7,fail=0.5,kinds=reset+503,"
				    "backoff=1ms");
	uint8_t *d = big(5);
	vault_backend *x;
	uint64_t retries = 0;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		char name[sizeof(pack)];

		snprintf(name, sizeof(name), "%s", pack);
		name[sizeof(pack) - 2] = (char)('1' + i);
		sv_assert_ok(b->ops->put(b, name, d, BIG_LEN));
	}
	for (x = b; x; x = x->inner)
		retries += atomic_load(&x->retries);
	assert_true(retries >= 1);
	assert_true(p->block_lists >= 3);
	assert_stored(b, d);
	free(d);
	vault__backend_close(b);
	proxy_stop(p);
}

/* The port of SYSVAULT_AZURE_ENDPOINT ("http://127.0.0.1:<port>/..."). */
static int endpoint_port(const char *ep)
{
	const char *c = strrchr(ep, ':');
	char digits[8];
	uint64_t port = 0;

	if (!c)
		return 0;
	sv_strlcpy(digits, c + 1, sizeof(digits));
	digits[strspn(digits, "0123456789")] = '\0';
	if (sv_parse_u64(&port, digits) < 0 || port > 65535)
		return 0;
	return (int)port;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks__large_object_round_trip),
		cmocka_unit_test(test_blocks__a_failed_block_is_sent_again),
		cmocka_unit_test(test_blocks__commit_is_write_once),
		cmocka_unit_test(
			test_blocks__fault_wrapper_over_a_block_upload),
	};
	char *ep = sv_env_get("SYSVAULT_AZURE_ENDPOINT");
	uint8_t r[6];
	char hex[13];
	int rc;
#ifdef _WIN32
	WSADATA w;

	WSAStartup(MAKEWORD(2, 2), &w);
#endif
	account_key = sv_env_get("SYSVAULT_AZURE_KEY");
	if (!ep || !account_key ||
	    !sv_str_startswith(ep, "http://127.0.0.1:")) {
		fprintf(stderr, "test_vault_blocks_azure: skipped: no Azurite "
				"(run through tests/cloud/azurite-run.sh)\n");
		return SKIP_CODE;
	}
	azurite_port = endpoint_port(ep);
	if (vault__random(r, sizeof(r)) != 0)
		return 1;
	sv_hex_encode(hex, r, sizeof(r));
	snprintf(container, sizeof(container), "blk-%s", hex);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(ep);
	free(account_key);
	return rc;
}
