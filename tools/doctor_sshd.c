/* doctor_sshd.c: OpenSSH's sshd as `sshd -T` shows it, for `tokenscope
 * doctor` (D3: token logins reach pam_token.so whole, through
 * keyboard-interactive with UsePAM). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doctor.h"

/* The value of a keyword in `sshd -T` output (lower-case keywords). */
static const char *
setting(const char *out, const char *kw, char *buf, size_t cap)
{
	size_t n = strlen(kw);
	const char *l;

	buf[0] = '\0';
	for (l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, kw, n) == 0 && l[n] == ' ') {
			snprintf(buf, cap, "%.*s", (int)strcspn(l + n + 1, "\n"), l + n + 1);
			break;
		}
	return buf;
}

void
dr_check_sshd(dr_ctx *d)
{
	/* -T checks the host keys too: run as root, it reads them where the
	 * configuration says */
	const char *argv[] = { "sshd", "-T", "-f", d->sshd_config, NULL };
	const dr_pam_service *ps = dr_pam_find(d, "sshd");
	char *out = NULL, err[256], pam[32], kbd[32];

	if (ps == NULL)
		return; /* sshd's PAM stack does not use tokens */
	if (!d->sshd_given && access(d->sshd_config, F_OK) != 0)
		return;
	if (dr_run(argv, &out, err, sizeof(err)) != 0) {
		dr_add(d, DR_WARNING, "D6_consumer_unreadable",
		    "the doctor could not read sshd's configuration, so its traps are unknown",
		    "run `sshd -T -f FILE` and fix what it reports", "sshd -T -f %s: %s",
		    d->sshd_config, err);
		return;
	}
	setting(out, "usepam", pam, sizeof(pam));
	setting(out, "kbdinteractiveauthentication", kbd, sizeof(kbd));
	/* OpenSSH before 8.7 calls it challengeresponseauthentication */
	if (kbd[0] == '\0')
		setting(out, "challengeresponseauthentication", kbd, sizeof(kbd));
	if (strcmp(pam, "yes") != 0 || strcmp(kbd, "yes") != 0)
		dr_add(d, DR_WARNING, "D3_sshd_no_keyboard_interactive",
		    "sshd's PAM stack names pam_token.so, but sshd does not ask PAM through "
		    "keyboard-interactive: token logins never reach the module, or reach it "
		    "only as a password, which the ssh client cuts at 1,023 bytes",
		    "UsePAM yes and KbdInteractiveAuthentication yes in sshd_config",
		    "sshd -T -f %s: usepam %s, kbdinteractiveauthentication %s; pam_token.so at %s",
		    d->sshd_config, pam[0] ? pam : "?", kbd[0] ? kbd : "?", ps->where);
	free(out);
}
