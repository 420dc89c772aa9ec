/* authz.c: group and role rules (C8), assurance (C9), the user map (C10)
 * and the local user's rules (C11); see claims.h. Each runs after the
 * signature and the claim checks before it, on verified claims only. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "claims.h"
#include "usermap.h"

/* C8: the member at path, or NULL when a member on the way is missing;
 * *through_value is set when one on the way is there but not an object
 * (a shape the administrator did not configure: never "no groups"). */
static const ts_jv *
member_path(const ts_jv *claims, const char *path, int *through_value)
{
	char buf[TS_CLAIM_PATH_MAX + 1], *seg, *dot;
	const ts_jv *cur = claims;

	*through_value = 0;
	if (strstr(path, "://") != NULL || strchr(path, '.') == NULL)
		return ts_jv_get(claims, path);
	snprintf(buf, sizeof(buf), "%s", path);
	for (seg = buf; seg != NULL; seg = dot) {
		if ((dot = strchr(seg, '.')) != NULL)
			*dot++ = '\0';
		if (!ts_jv_is(cur, TS_JSON_OBJECT)) {
			*through_value = 1;
			return NULL;
		}
		if ((cur = ts_jv_get(cur, seg)) == NULL)
			return NULL;
	}
	return cur;
}

/* The first member name of a path: what an overage marker would name. */
static int
path_top_is(const char *path, const char *name, size_t len)
{
	size_t n = strstr(path, "://") != NULL ? strlen(path) : strcspn(path, ".");

	return n == len && memcmp(path, name, len) == 0;
}

/* Entra ID leaves the groups out of a token with too many (or, implicit
 * flow, any) and says so with _claim_names or hasgroups: the list in the
 * token is then not the user's groups. */
static ts_reason
check_overage(const ts_claims_in *in, ts_err *e)
{
	const ts_strlist *paths = &in->is->groups_claims;
	const ts_jv *names = ts_jv_get(in->claims, "_claim_names"), *k;
	size_t i, j;

	for (i = 0; i < paths->n; i++) {
		if (ts_jv_get(in->claims, "hasgroups") != NULL &&
		    path_top_is(paths->v[i], "groups", 6))
			return ts_fail(e, TS_R_GROUPS_OVERAGE,
			    "hasgroups: the groups were left out of the token");
		if (!ts_jv_is(names, TS_JSON_OBJECT))
			continue;
		for (j = 0, k = names + 1; j < names->n; j++, k += 1 + k[1].skip)
			if (path_top_is(paths->v[i], k->u.s, k->n))
				return ts_fail(e, TS_R_GROUPS_OVERAGE,
				    "_claim_names: the token's %s were left out (overage)",
				    paths->v[i]);
	}
	return TS_OK;
}

/* One group value v (a string, or an array of strings) against the rules. */
static ts_reason
match_groups(const ts_claims_in *in, const char *path, const ts_jv *v, int *hit, ts_err *e)
{
	const ts_service_conf *svc = in->svc;
	const ts_jv *g = v;
	size_t i, n = 1;

	if (ts_jv_is(v, TS_JSON_ARRAY)) {
		n = v->n;
		g = v + 1;
	} else if (!ts_jv_is(v, TS_JSON_STRING)) {
		return ts_fail(e, TS_R_INVALID_CLAIM, "%s is not a string or an array", path);
	}
	for (i = 0; i < n; i++, g += g->skip) {
		if (!ts_jv_is(g, TS_JSON_STRING))
			return ts_fail(e, TS_R_INVALID_CLAIM, "%s holds a non-string", path);
		if (ts_strlist_has(&svc->denied_groups, g->u.s, g->n))
			return ts_fail(
			    e, TS_R_GROUP_DENIED, "a member of a denied group (%s)", path);
		*hit |= ts_strlist_has(&svc->required_groups, g->u.s, g->n);
	}
	return TS_OK;
}

ts_reason
ts_check_groups(const ts_claims_in *in, ts_claims_out *out, ts_err *e)
{
	const ts_service_conf *svc = in->svc;
	const ts_strlist *paths = &in->is->groups_claims;
	size_t i;
	int hit = 0, through;
	ts_reason r;

	(void)out;
	if (svc->required_groups.n == 0 && svc->denied_groups.n == 0)
		return TS_OK;
	if ((r = check_overage(in, e)) != TS_OK)
		return r;
	/* every path is read whole before deciding: a denied group anywhere
	 * refuses, whatever required group came first */
	for (i = 0; i < paths->n; i++) {
		const ts_jv *v = member_path(in->claims, paths->v[i], &through);

		if (through)
			return ts_fail(e, TS_R_INVALID_CLAIM, "%s goes through a non-object member",
			    paths->v[i]);
		if (v != NULL && (r = match_groups(in, paths->v[i], v, &hit, e)) != TS_OK)
			return r;
	}
	if (svc->required_groups.n > 0 && !hit)
		return ts_fail(
		    e, TS_R_GROUP_REQUIRED, "in none of service %s's required_groups", svc->name);
	return TS_OK;
}

ts_reason
ts_check_acr(const ts_claims_in *in, ts_claims_out *out, ts_err *e)
{
	const ts_jv *acr = ts_jv_get(in->claims, "acr");

	(void)out;
	if (in->svc->required_acr.n == 0)
		return TS_OK;
	if (acr == NULL)
		return ts_fail(
		    e, TS_R_ACR_REFUSED, "no acr, and service %s requires one", in->svc->name);
	if (!ts_jv_is(acr, TS_JSON_STRING))
		return ts_fail(e, TS_R_INVALID_CLAIM, "\"acr\" is not a string");
	if (!ts_strlist_has(&in->svc->required_acr, acr->u.s, acr->n))
		return ts_fail(e, TS_R_ACR_REFUSED, "acr is not one of service %s's required_acr",
		    in->svc->name);
	return TS_OK;
}

ts_reason
ts_check_amr(const ts_claims_in *in, ts_claims_out *out, ts_err *e)
{
	const ts_strlist *want = &in->svc->required_amr;
	const ts_jv *amr = ts_jv_get(in->claims, "amr"), *m;
	size_t i, k;

	(void)out;
	if (want->n == 0)
		return TS_OK;
	if (amr == NULL)
		return ts_fail(e, TS_R_AMR_MISSING, "no amr, and service %s requires %s",
		    in->svc->name, want->v[0]);
	if (!ts_jv_is(amr, TS_JSON_ARRAY))
		return ts_fail(e, TS_R_INVALID_CLAIM, "\"amr\" is not an array");
	for (k = 0, m = amr + 1; k < amr->n; k++, m += m->skip)
		if (!ts_jv_is(m, TS_JSON_STRING))
			return ts_fail(e, TS_R_INVALID_CLAIM, "\"amr\" holds a non-string");
	for (i = 0; i < want->n; i++) {
		int found = 0;
		size_t wl = strlen(want->v[i]);

		for (k = 0, m = amr + 1; k < amr->n && !found; k++, m += m->skip)
			found = m->n == wl && memcmp(m->u.s, want->v[i], wl) == 0;
		if (!found)
			return ts_fail(e, TS_R_AMR_MISSING, "amr lacks %s", want->v[i]);
	}
	return TS_OK;
}

ts_reason
ts_check_auth_age(const ts_claims_in *in, ts_claims_out *out, ts_err *e)
{
	long max = in->svc->max_auth_age;
	long long at = 0, t = (long long)in->now;
	int present;
	ts_reason r;

	(void)out;
	if (max == 0)
		return TS_OK;
	if ((r = ts_numeric_date(in->claims, "auth_time", 0, &at, &present, e)) != TS_OK)
		return r;
	if (!present)
		return ts_fail(e, TS_R_AUTH_TIME_MISSING,
		    "no auth_time, and service %s has max_auth_age", in->svc->name);
	if (at > t + in->skew)
		return ts_fail(e, TS_R_AUTH_IN_FUTURE,
		    "auth_time in the future (auth_time=%lld, now=%lld)", at, t);
	/* the same skew as exp: a login exactly max_auth_age + skew ago passes */
	if (t - at > max + in->skew)
		return ts_fail(e, TS_R_AUTH_TOO_OLD,
		    "authenticated %lld seconds ago; max_auth_age=%ld, skew=%ld", t - at, max,
		    in->skew);
	return TS_OK;
}

ts_reason
ts_map_user(const ts_claims_in *in, const char **s, size_t *len, ts_err *e)
{
	const ts_usermap *m = in->svc->umap != NULL ? in->svc->umap : in->is->umap;
	const char *u = m != NULL ? ts_usermap_find(m, *s, *len) : NULL;

	if (u != NULL) {
		*s = u;
		*len = strlen(u);
		return TS_OK;
	}
	if (in->svc->user_map_required || in->is->user_map_required)
		return ts_fail(e, TS_R_USER_UNMAPPED, "the user is not in the user map");
	return TS_OK;
}

ts_reason
ts_check_local_user(const ts_claims_in *in, ts_claims_out *out, ts_err *e)
{
	const ts_service_conf *svc = in->svc;
	const char *u = out->user;
	size_t len = strlen(u);

	if (ts_strlist_has(&svc->denied_users, u, len))
		return ts_fail(
		    e, TS_R_USER_DENIED, "%s is in service %s's denied_users", u, svc->name);
	if (svc->allowed_users.n > 0 && !ts_strlist_has(&svc->allowed_users, u, len))
		return ts_fail(e, TS_R_USER_NOT_ALLOWED, "%s is not in service %s's allowed_users",
		    u, svc->name);
	if (svc->allow_root)
		return TS_OK;
	/* the uid-0 names were read with the state (ts_root_names_load): a
	 * decision reads no account file and asks no NSS module */
	if (strcmp(u, "root") == 0 ||
	    (in->root_names != NULL && ts_strlist_has(in->root_names, u, len)))
		return ts_fail(e, TS_R_ROOT_REFUSED,
		    "%s is root (uid 0) and service %s has no allow_root", u, svc->name);
	return TS_OK;
}
