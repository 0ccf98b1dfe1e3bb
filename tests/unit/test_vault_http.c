/*
 * test_vault_http.c - the transfer engine of vault/http.c against a small
 * HTTP/1.1 server in this file (127.0.0.1, a free port, one thread per
 * connection, keep-alive): transfers really run in parallel up to the
 * pool's count, connections are reused, a retried upload sends its whole
 * body again, a cancel aborts a transfer in flight, a stalled transfer is
 * retried instead of waited on, throttled transfers (paused and resumed
 * in both directions) arrive intact.
 *
 * Nothing here measures time: the parallelism test meets at a barrier in
 * the server, the cancel test hooks on the server having the request.
 */
#include "sv_test_sock.h"

#include <stdatomic.h>
#include <string.h>

#include "http.h"
#include "sv_test.h"
#include "sv_thread.h"
#include "sv_time.h"

#define BODY_LEN 100000

typedef struct server {
	sock_t lsock;
	int port;
	sv_thread *acceptor;
	sv_mutex *mu;
	sv_cond *cv;
	int quit;
	int connections;  /* accepted so far */
	int inside, most; /* requests being answered; the most at once */
	int barrier;	  /* /meet: answers once this many are inside */
	int met;	  /* ... which happened */
	sv_thread *conns[256];
	int nconns;
	int flaky_left;	    /* /flaky answers 503 this many times */
	int flaky_bad_body; /* a /flaky body arrived short or wrong */
	int hang_seen;	    /* /hang requests that arrived */
	int open_conns;
} server;

typedef struct conn {
	server *s;
	sock_t fd;
} conn;

static int read_line(sock_t fd, char *buf, size_t n)
{
	size_t k = 0;

	while (k + 1 < n) {
		char c;

		if (recv(fd, &c, 1, 0) != 1)
			return -1;
		if (c == '\n')
			break;
		if (c != '\r')
			buf[k++] = c;
	}
	buf[k] = '\0';
	return 0;
}

static int read_body(sock_t fd, unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		int r = (int)recv(fd, (char *)buf + got, (int)(n - got), 0);

		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static void send_all(sock_t fd, const char *p, size_t n)
{
	while (n > 0) {
		int r = (int)send(fd, p, (int)n, SEND_FLAGS);

		if (r <= 0)
			return;
		p += r;
		n -= (size_t)r;
	}
}

static void answer(sock_t fd, int status, const char *extra, const char *body)
{
	char head[512];

	snprintf(head, sizeof(head),
		 "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n", status,
		 strlen(body), extra);
	send_all(fd, head, strlen(head));
	send_all(fd, body, strlen(body));
}

/* BODY_LEN bytes of the test pattern. */
static void answer_big(sock_t fd)
{
	static unsigned char body[BODY_LEN];
	char head[128];
	size_t i;

	for (i = 0; i < BODY_LEN; i++)
		body[i] = (unsigned char)(i * 7);
	snprintf(head, sizeof(head),
		 "HTTP/1.1 200 X\r\nContent-Length: %d\r\n\r\n", BODY_LEN);
	send_all(fd, head, strlen(head));
	send_all(fd, (const char *)body, BODY_LEN);
}

static int body_ok(const unsigned char *b, size_t n)
{
	size_t i;

	if (n != BODY_LEN)
		return 0;
	for (i = 0; i < n; i++)
		if (b[i] != (unsigned char)(i * 7))
			return 0;
	return 1;
}

/* Waits (bounded) until `barrier` requests are inside at once. */
static int meet(server *s)
{
	int ok = 1;

	if (s->inside >= s->barrier)
		s->met = 1;
	while (!s->met && ok)
		ok = sv_cond_timedwait(s->cv, s->mu, 20000) == 0;
	sv_cond_broadcast(s->cv);
	return s->met;
}

/* One request on fd; -1 when the connection is done. */
static int serve_one(server *s, sock_t fd, unsigned char *body)
{
	char line[1024], path[256] = "";
	size_t clen = 0;
	int met = 1;

	if (read_line(fd, line, sizeof(line)) < 0 ||
	    sscanf(line, "%*s %255s", path) != 1)
		return -1;
	while (read_line(fd, line, sizeof(line)) == 0 && line[0])
		if (strncmp(line, "Content-Length:", 15) == 0)
			clen = (size_t)strtoul(line + 15, NULL, 10);
	if (clen > BODY_LEN || read_body(fd, body, clen) < 0)
		return -1;
	sv_mutex_lock(s->mu);
	s->inside++;
	if (s->inside > s->most)
		s->most = s->inside;
	sv_cond_broadcast(s->cv);
	if (strcmp(path, "/meet") == 0)
		met = meet(s);
	if (strcmp(path, "/hang") == 0) {
		s->hang_seen++;
		sv_cond_broadcast(s->cv);
		while (!s->quit)
			sv_cond_wait(s->cv, s->mu);
		s->inside--;
		sv_mutex_unlock(s->mu);
		return -1; /* never answered */
	}
	if (strcmp(path, "/flaky") == 0 && !body_ok(body, clen))
		s->flaky_bad_body = 1;
	s->inside--;
	if (strcmp(path, "/big") == 0) {
		sv_mutex_unlock(s->mu);
		answer_big(fd);
		return 0;
	}
	if (strcmp(path, "/flaky") == 0 && s->flaky_left > 0) {
		s->flaky_left--;
		sv_mutex_unlock(s->mu);
		answer(fd, 503, "x-ms-retry-after-ms: 5\r\n", "busy");
		return 0;
	}
	sv_mutex_unlock(s->mu);
	answer(fd, met ? 200 : 500, "", "hello");
	return 0;
}

static void conn_main(void *arg)
{
	conn *c = arg;
	unsigned char *body = malloc(BODY_LEN);

	while (body && serve_one(c->s, c->fd, body) == 0)
		;
	free(body);
	sock_close(c->fd);
	sv_mutex_lock(c->s->mu);
	c->s->open_conns--;
	sv_cond_broadcast(c->s->cv);
	sv_mutex_unlock(c->s->mu);
	free(c);
}

static void acceptor_main(void *arg)
{
	server *s = arg;

	for (;;) {
		sock_t fd = accept(s->lsock, NULL, NULL);
		sv_thread *t = NULL;
		conn *c;

		if (fd == SOCK_BAD)
			return; /* the listening socket was closed */
		c = malloc(sizeof(*c));
		c->s = s;
		c->fd = fd;
		sv_mutex_lock(s->mu);
		s->connections++;
		s->open_conns++;
		if (s->nconns == 256 ||
		    sv_thread_start(&t, conn_main, c) != 0) {
			s->open_conns--;
			sock_close(fd);
			free(c);
		} else {
			s->conns[s->nconns++] = t;
		}
		sv_mutex_unlock(s->mu);
	}
}

static server *server_start(void)
{
	server *s = calloc(1, sizeof(*s));
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

#ifdef _WIN32
	WSADATA w;

	WSAStartup(MAKEWORD(2, 2), &w);
#endif
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->lsock = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->lsock != SOCK_BAD);
	assert_int_equal(bind(s->lsock, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->lsock, 64), 0);
	assert_int_equal(getsockname(s->lsock, (struct sockaddr *)&a, &len), 0);
	s->port = ntohs(a.sin_port);
	sv_assert_ok(sv_mutex_new(&s->mu));
	sv_assert_ok(sv_cond_new(&s->cv));
	sv_assert_ok(sv_thread_start(&s->acceptor, acceptor_main, s));
	return s;
}

/* Stops the server once its connections are closed (the pool was freed). */
static void server_stop(server *s)
{
	sv_mutex_lock(s->mu);
	s->quit = 1;
	sv_cond_broadcast(s->cv);
	while (s->open_conns > 0)
		if (sv_cond_timedwait(s->cv, s->mu, 20000) != 0)
			break;
	sv_mutex_unlock(s->mu);
#ifdef _WIN32
	closesocket(s->lsock);
#else
	shutdown(s->lsock, SHUT_RDWR);
	close(s->lsock);
#endif
	sv_thread_join(s->acceptor);
	while (s->nconns > 0)
		sv_thread_join(s->conns[--s->nconns]);
	sv_cond_free(s->cv);
	sv_mutex_free(s->mu);
	free(s);
}

/* ---- clients ---- */

typedef struct client {
	vault_http *h;
	int port;
	const char *path;
	int count;
	int ok; /* answers with status 200 */
	int rc; /* the last failure */
} client;

static int get(vault_http *h, int port, const char *path, long *status)
{
	vault_http_req r;
	vault_http_resp resp;
	sv_buf out;
	char url[128];
	int rc;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	sv_buf_init(&out, 1 << 20);
	vault__http_req_init(&r, "GET");
	vault__http_resp_init(&resp);
	r.url = sv_strdup(url);
	r.out = &out;
	rc = vault__http_send(h, &r, &resp, NULL, NULL);
	*status = resp.status;
	vault__http_req_release(&r);
	vault__http_resp_release(&resp);
	sv_buf_release(&out);
	return rc;
}

static void client_main(void *arg)
{
	client *c = arg;
	int i;

	for (i = 0; i < c->count; i++) {
		long st = 0;
		int rc = get(c->h, c->port, c->path, &st);

		if (rc == 0 && st == 200)
			c->ok++;
		else if (rc != 0)
			c->rc = rc;
	}
}

static void run_clients(vault_http *h, server *s, const char *path,
			int nthreads, int per_thread, int *ok)
{
	sv_thread *t[16];
	client c[16];
	int i;

	*ok = 0;
	for (i = 0; i < nthreads; i++) {
		c[i] = (client){h, s->port, path, per_thread, 0, 0};
		sv_assert_ok(sv_thread_start(&t[i], client_main, &c[i]));
	}
	for (i = 0; i < nthreads; i++) {
		sv_thread_join(t[i]);
		*ok += c[i].ok;
	}
}

static void test_http__runs_transfers_in_parallel_up_to_the_count(void **state)
{
	vault_http_opts o = {0};
	server *s = server_start();
	vault_http *h = NULL;
	int ok;

	(void)state;
	o.transfers = 4;
	o.max_attempts = 1;
	s->barrier = 4; /* four requests must be in the server at once */
	sv_assert_ok(vault__http_new(&h, &o));
	assert_int_equal(vault__http_transfers(h), 4);
	run_clients(h, s, "/meet", 4, 1, &ok);
	assert_int_equal(ok, 4);
	s->barrier = 0;
	run_clients(h, s, "/ok", 8, 10, &ok);
	assert_int_equal(ok, 80);
	vault__http_free(h);
	assert_true(s->most <= 4);	  /* never more than the count */
	assert_true(s->connections <= 4); /* and the connections reused */
	server_stop(s);
}

static void test_http__default_count_follows_the_cpus(void **state)
{
	unsigned n = vault__http_default_transfers();
	unsigned want = 2 * (unsigned)sv_cpu_count();

	(void)state;
	want = want < 4 ? 4 : want > 16 ? 16 : want;
	assert_int_equal(n, want);
}

static void test_http__retry_sends_the_whole_body_again(void **state)
{
	vault_http_opts o = {0};
	server *s = server_start();
	vault_http *h = NULL;
	vault_http_req r;
	vault_http_resp resp;
	unsigned char *body = malloc(BODY_LEN);
	char url[64];
	size_t i;

	(void)state;
	for (i = 0; i < BODY_LEN; i++)
		body[i] = (unsigned char)(i * 7);
	o.backoff_ms = 1;
	o.backoff_max_ms = 10;
	s->flaky_left = 2;
	sv_assert_ok(vault__http_new(&h, &o));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/flaky", s->port);
	vault__http_req_init(&r, "PUT");
	vault__http_resp_init(&resp);
	r.url = sv_strdup(url);
	r.body = body;
	r.body_len = BODY_LEN;
	sv_assert_ok(vault__http_send(h, &r, &resp, NULL, NULL));
	assert_int_equal(resp.status, 200);
	assert_int_equal(resp.attempts, 3);
	assert_int_equal(s->flaky_bad_body, 0);
	vault__http_req_release(&r);
	vault__http_resp_release(&resp);
	vault__http_free(h);
	server_stop(s);
	free(body);
}

typedef struct canceller {
	server *s;
	atomic_int flag;
} canceller;

static int cancel_cb(void *ud)
{
	return atomic_load(&((canceller *)ud)->flag);
}

/* Sets the flag once the server holds the request. */
static void cancel_main(void *arg)
{
	canceller *c = arg;

	sv_mutex_lock(c->s->mu);
	while (c->s->hang_seen == 0)
		if (sv_cond_timedwait(c->s->cv, c->s->mu, 20000) != 0)
			break;
	sv_mutex_unlock(c->s->mu);
	atomic_store(&c->flag, 1);
}

static void test_http__cancel_aborts_a_transfer_in_flight(void **state)
{
	server *s = server_start();
	vault_http *h = NULL;
	canceller c;
	sv_thread *t = NULL;
	long st = 0;

	(void)state;
	c.s = s;
	atomic_init(&c.flag, 0);
	sv_assert_ok(vault__http_new(&h, NULL));
	vault__http_set_cancel(h, cancel_cb, &c);
	sv_assert_ok(sv_thread_start(&t, cancel_main, &c));
	assert_int_equal(get(h, s->port, "/hang", &st), SV_ECANCELLED);
	sv_thread_join(t);
	/* refused while the hook says stop, accepted after it is cleared */
	assert_int_equal(get(h, s->port, "/ok", &st), SV_ECANCELLED);
	vault__http_set_cancel(h, NULL, NULL);
	sv_assert_ok(get(h, s->port, "/ok", &st));
	assert_int_equal(st, 200);
	vault__http_free(h);
	server_stop(s);
}

static void test_http__stalled_transfer_is_retried(void **state)
{
	vault_http_opts o = {0};
	server *s = server_start();
	vault_http *h = NULL;
	long st = 0;

	(void)state;
	o.low_speed_bytes = 1000;
	o.low_speed_secs = 1;
	o.max_attempts = 2;
	o.backoff_ms = 1;
	o.backoff_max_ms = 2;
	sv_assert_ok(vault__http_new(&h, &o));
	assert_int_equal(get(h, s->port, "/hang", &st), SV_ETIMEOUT);
	assert_int_equal(s->hang_seen, 2);
	vault__http_free(h);
	server_stop(s);
}

typedef struct mover {
	vault_http *h;
	int port;
	int ok;
} mover;

/* One upload and one download of BODY_LEN bytes, both checked. */
static void mover_main(void *arg)
{
	mover *m = arg;
	unsigned char *body = malloc(BODY_LEN);
	vault_http_req r;
	vault_http_resp resp;
	sv_buf out;
	char url[64];
	size_t i;
	int rc;

	for (i = 0; i < BODY_LEN; i++)
		body[i] = (unsigned char)(i * 7);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/flaky", m->port);
	vault__http_req_init(&r, "PUT");
	vault__http_resp_init(&resp);
	r.url = sv_strdup(url);
	r.body = body;
	r.body_len = BODY_LEN;
	rc = vault__http_send(m->h, &r, &resp, NULL, NULL);
	m->ok += rc == 0 && resp.status == 200;
	vault__http_req_release(&r);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/big", m->port);
	sv_buf_init(&out, 1 << 20);
	vault__http_req_init(&r, "GET");
	r.url = sv_strdup(url);
	r.out = &out;
	rc = vault__http_send(m->h, &r, &resp, NULL, NULL);
	m->ok += rc == 0 && resp.status == 200 &&
		 body_ok((unsigned char *)out.ptr, out.len);
	vault__http_req_release(&r);
	vault__http_resp_release(&resp);
	sv_buf_release(&out);
	free(body);
}

static void test_http__throttled_transfers_arrive_intact(void **state)
{
	/* always in work hours, 4 Mbps: about 1.6 s for the 800 kB below */
	vault_throttle t = {1, 0x7f, 0, 24 * 60, 4000000, 0};
	vault_http_opts o = {0};
	server *s = server_start();
	vault_http *h = NULL;
	sv_thread *th[4];
	mover m[4];
	int i, ok = 0;

	(void)state;
	o.transfers = 4;
	sv_assert_ok(vault__http_new(&h, &o));
	vault__http_set_throttle(h, &t);
	for (i = 0; i < 4; i++) {
		m[i] = (mover){h, s->port, 0};
		sv_assert_ok(sv_thread_start(&th[i], mover_main, &m[i]));
	}
	for (i = 0; i < 4; i++) {
		sv_thread_join(th[i]);
		ok += m[i].ok;
	}
	assert_int_equal(ok, 8);
	assert_int_equal(s->flaky_bad_body, 0);
	/* lifting the limit also works */
	vault__http_set_throttle(h, NULL);
	m[0] = (mover){h, s->port, 0};
	mover_main(&m[0]);
	assert_int_equal(m[0].ok, 2);
	vault__http_free(h);
	server_stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_http__runs_transfers_in_parallel_up_to_the_count),
		cmocka_unit_test(test_http__default_count_follows_the_cpus),
		cmocka_unit_test(test_http__retry_sends_the_whole_body_again),
		cmocka_unit_test(test_http__cancel_aborts_a_transfer_in_flight),
		cmocka_unit_test(test_http__stalled_transfer_is_retried),
		cmocka_unit_test(test_http__throttled_transfers_arrive_intact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
