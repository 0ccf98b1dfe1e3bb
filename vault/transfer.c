/*
 * transfer.c - the vault's side of the transfer engine (http.c): its
 * parallelism for the pipelines and the cancel hook.
 */
#include "http.h"
#include "vault_int.h"

unsigned vault__transfers(const struct vault *v)
{
	return v->be->http ? vault__http_transfers(v->be->http) : 0;
}

void vault__cancel_begin(struct vault *v, vault_cancel_cb cancel, void *ud)
{
	if (v->be->http)
		vault__http_set_cancel(v->be->http, cancel, ud);
}

void vault__cancel_end(struct vault *v)
{
	if (v->be->http)
		vault__http_set_cancel(v->be->http, NULL, NULL);
}
