/*
 * transfer.c - the vault's side of the transfer engine (http.c): its
 * parallelism for the pipelines and the cancel hook.
 */
#include "http.h"
#include "vault_int.h"

int vault__backend_engine(vault_backend *b, struct vault_http **out,
			  const vault_access *acc, vault_http_opts *opts)
{
	int rc;

	if (acc) {
		opts->insecure = acc->insecure;
		opts->transfers = acc->transfers;
	}
	if ((rc = vault__http_new(out, opts)) != 0)
		return rc;
	if (acc && acc->throttle)
		vault__http_set_throttle(*out, acc->throttle);
	b->http = *out;
	return 0;
}

/* The engine of the cloud backend at the bottom of v's stack (under the
 * retry layer and any fault wrapper), or NULL for a local vault. */
static struct vault_http *engine(const struct vault *v)
{
	const vault_backend *b;

	for (b = v->be; b; b = b->inner)
		if (b->http)
			return b->http;
	return NULL;
}

unsigned vault__transfers(const struct vault *v)
{
	struct vault_http *h = engine(v);

	return h ? vault__http_transfers(h) : 0;
}

void vault__cancel_begin(struct vault *v, vault_cancel_cb cancel, void *ud)
{
	struct vault_http *h = engine(v);

	vault__backend_set_cancel(v->be, cancel, ud);
	if (h)
		vault__http_set_cancel(h, cancel, ud);
}

void vault__cancel_end(struct vault *v)
{
	struct vault_http *h = engine(v);

	vault__backend_set_cancel(v->be, NULL, NULL);
	if (h)
		vault__http_set_cancel(h, NULL, NULL);
}
