/*
 * fetchreq.h: the fetch request a login leaves for an issuer that was asked
 * for a kid it does not have (K14), internal to the core.
 *
 * The spool is a directory the fetcher (root) lists and empties; the login
 * process only ever creates one empty file in it, named after the [issuer]
 * section, and never reads, lists or deletes anything there. An entry that
 * already exists is a request already pending: requests coalesce, so the
 * spool holds at most one entry per configured issuer whatever the number
 * of refused tokens. The kid and the token never leave the login process
 * (K10, M3): the fetcher learns only which issuer to fetch.
 */
#ifndef TS_FETCHREQ_H
#define TS_FETCHREQ_H

/* 1 when name may name a spool entry: a section name that is not a dot
 * file (the fetcher ignores those). */
int ts_fetchreq_name_ok(const char *name);

/* Leaves a request for [issuer name] in spool without blocking and without
 * the network. Returns 1 when a request is pending (made now or before), 0
 * when none could be made (spool NULL, missing or out of reach, as in a
 * chroot, or not a directory owned by root that others may write only when
 * it is sticky). */
int ts_fetchreq_note(const char *spool, const char *name);

#endif
