/*
 * tenants.h: K16, one [issuer] section for many tenants of one provider.
 * Its issuer holds "{tenantid}" once, and its `tenants` list (inline, or a
 * file read with the state like a key file) names the tenants this host
 * accepts: the section stands for exactly one issuer per listed tenant.
 */
#ifndef TS_TENANTS_H
#define TS_TENANTS_H

#include <stddef.h>

#include "conf.h"
#include "keyring.h"

#define TS_TENANT_MAX 128 /* bytes of one tenant ID */

/* Reads every section's tenants file, checks every list (tenant IDs of
 * [A-Za-z0-9._-], no duplicates), sorts it, and refuses a service in which
 * one iss value could lead to two sections. Errors: TS_R_CONFIG_ERROR,
 * "file:line: message". Files read are appended to *files. */
ts_reason ts_tenants_load(ts_conf *c, ts_filelist *files, ts_err *e);

/* 1 when iss (len bytes) is section is's issuer: byte for byte (K3), or,
 * for a section with tenants, its issuer with a listed tenant in the
 * place of "{tenantid}"; *tenant (may be NULL) then gets that tenant
 * (NULL for a section without tenants). */
int ts_issuer_matches(const ts_issuer_conf *is, const char *iss, size_t len, const char **tenant);

/* K11 for K16: of the tenants section is lists (sorted), those the current
 * files still list, read leniently: names (the current config's lenient
 * scan, NULL when unreadable) and the file it names for the section, whose
 * identity is appended to *files. keep->v is allocated (free it, not its
 * strings: they are is's). Returns -1 when out of memory. */
int ts_tenants_still_listed(
    const ts_issuer_conf *is, const ts_conf_names *names, ts_filelist *files, ts_strlist *keep);

#endif
