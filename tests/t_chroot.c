/* t_chroot.c: K13, a context made before the process chroots keeps seeing
 * its files (Postfix's smtpd: the SASL plugin loads as root, then smtpd
 * chroots to its spool and changes user). A child makes the context,
 * chroots into an empty directory and validates on request; the parent
 * edits the files outside its root between requests. Needs root. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fx.h"
#include "safe_file.h"
#include "tap.h"
#include "tsenv.h"
#include "usermap.h"

#define TOKEN "case_good_corp_es256"
#define BASE                                                                                       \
	"[global]\nreload_interval = 0\nrevoked_keys = revoked\n%s\n[issuer corp]\n"               \
	"issuer = https://sso.example.com/realms/corp\nalgorithms = ES256 ES384\n"                 \
	"tenant = corp-tenant\nclients = webmail\nusername_claim = preferred_username\n"           \
	"username_strip_domain = example.com\nmax_lifetime = 7200\n%s\n"                           \
	"[service dovecot]\nissuers = corp\naudiences = %s\nrequired_scopes = mail.read\n"

static char dir[64], jail[128], conf[128];
static int to_child[2], from_child[2];
/* lines the child's context logged since its last answer */
static char child_log[4096];

static void
child_logger(void *arg, int prio, const char *line)
{
	size_t n = strlen(child_log);

	(void)arg;
	(void)prio;
	snprintf(child_log + n, sizeof(child_log) - n, "%s\n", line);
}

#define KEY "key = p256.pub.pem kid=corp-1"

static void
write_conf(const char *keys, const char *aud)
{
	char text[2048];

	snprintf(text, sizeof(text), BASE, "", keys, aud);
	env_write(dir, "tokenscope.conf", text, 0644);
}

/* The child: a context now, then chroot (and with drop, user nobody);
 * then for each request byte one validation, answered with its reason
 * and whatever was logged. */
static void
child(int drop)
{
	ts_ctx *ctx = NULL;
	ts_err e = { "" };
	ts_request req = env_req(TOKEN, "dovecot", "alice"); /* fixtures read before */
	ts_result res;
	char c;
	int r;

	(void)ts_ctx_new(conf, child_logger, NULL, &ctx, &e);
	if (ctx == NULL || chroot(jail) != 0 || chdir("/") != 0 ||
	    (drop && (setgid(65534) != 0 || setuid(65534) != 0)))
		_exit(3);
	while (read(to_child[0], &c, 1) == 1) {
		child_log[0] = '\0';
		r = (int)ts_validate(ctx, &req, &res);
		if (write(from_child[1], &r, sizeof(r)) != sizeof(r) ||
		    write(from_child[1], child_log, sizeof(child_log)) != sizeof(child_log))
			_exit(4);
	}
	ts_ctx_free(ctx);
	_exit(0);
}

static pid_t
start(int drop)
{
	pid_t pid;

	if (pipe(to_child) != 0 || pipe(from_child) != 0)
		tap_bail("pipe");
	if ((pid = fork()) < 0)
		tap_bail("fork");
	if (pid == 0) {
		close(to_child[1]);
		close(from_child[0]);
		child(drop);
	}
	close(to_child[0]);
	close(from_child[1]);
	return pid;
}

/* One validation in the chrooted child; its log lines go to *log. */
static ts_reason
ask(char *log, size_t cap)
{
	char buf[sizeof(child_log)];
	int r = -1;

	if (write(to_child[1], "v", 1) != 1 || read(from_child[0], &r, sizeof(r)) != sizeof(r) ||
	    read(from_child[0], buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		tap_bail("the chrooted child died");
	buf[sizeof(buf) - 1] = '\0';
	if (log != NULL)
		snprintf(log, cap, "%s", buf);
	return (ts_reason)r;
}

static void
stop(pid_t pid)
{
	int st;

	close(to_child[1]);
	close(from_child[0]);
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		tap_diag("chrooted child exit status %d", st);
}

/* Starts the chrooted child (drop: as nobody after the chroot), shows it
 * accepting (test ACCEPTS), revokes the token's key and shows the refusal
 * (test REVOCATION), then takes the revocation back and asks once more
 * (test UNREVOKED when not NULL), so that the child has seen it; returns
 * the child. */
static pid_t
start_and_revoke(int drop, const char *accepts, const char *revocation, const char *unrevoked)
{
	char revoked[128];
	pid_t pid;
	ts_reason r;

	write_conf(KEY, "imap.example.com");
	env_write(dir, "revoked", "# nothing revoked\n", 0644);
	pid = start(drop);
	ok(ask(NULL, 0) == TS_OK, "%s", accepts);
	snprintf(revoked, sizeof(revoked), "%s\n", fx_thumbprint("p256"));
	env_write(dir, "revoked", revoked, 0644);
	r = ask(NULL, 0);
	ok(r == TS_R_KEY_REVOKED, "%s (%s)", revocation, ts_reason_str(r));
	env_write(dir, "revoked", "# nothing revoked\n", 0644);
	r = ask(NULL, 0);
	if (unrevoked != NULL)
		ok(r == TS_OK, "%s", unrevoked);
	return pid;
}

static void
test_edits_reach_the_chrooted_process(void)
{
	char log[sizeof(child_log)], sub[4300];
	pid_t pid;
	ts_reason r;

	pid = start_and_revoke(0, "K13_chrooted_process_accepts_with_the_state_loaded_before",
	    "K13_revocation_reaches_the_chrooted_process", "K13_unrevoked_again");
	write_conf(KEY, "smtp.example.com");
	r = ask(NULL, 0);
	ok(r == TS_R_AUDIENCE_MISMATCH, "K13_audience_edit_reaches_the_chrooted_process (%s)",
	    ts_reason_str(r));
	write_conf(KEY, "imap.example.com");
	ok(ask(NULL, 0) == TS_OK, "K13_audience_restored");
	/* a key file in a directory the process never read from before its
	 * chroot: out of reach, and the log says why and what to do */
	snprintf(sub, sizeof(sub), "%s/later", dir);
	mkdir(sub, 0755);
	env_copy_key(sub, "p384.pub.pem");
	write_conf(KEY "\nkey = later/p384.pub.pem kid=corp-2 alg=ES384", "imap.example.com");
	r = ask(log, sizeof(log));
	ok(r == TS_OK && strstr(log, "out of reach since this process chrooted") != NULL &&
	        strstr(log, "postfix reload") != NULL && strstr(log, "chroot = n") != NULL,
	    "K13_file_in_a_directory_not_held_before_the_chroot_says_why (%s; %s)",
	    ts_reason_str(r), log);
	ask(log, sizeof(log));
	ok(strstr(log, "out of reach since this process chrooted") == NULL,
	    "K13_that_error_is_logged_once (%s)", log);
	stop(pid);
	write_conf(KEY, "imap.example.com");
}

/* An smtpd that started while a key file had a bad mode: config_error,
 * until the mode is fixed outside its root. */
static void
test_fix_reaches_the_chrooted_process(void)
{
	char key[4300];
	pid_t pid;
	ts_reason r;

	snprintf(key, sizeof(key), "%s/p256.pub.pem", dir);
	if (chmod(key, 0666) != 0)
		tap_bail("chmod");
	pid = start(0);
	r = ask(NULL, 0);
	ok(r == TS_R_CONFIG_ERROR, "K13_bad_key_mode_at_start_config_error (%s)", ts_reason_str(r));
	if (chmod(key, 0644) != 0)
		tap_bail("chmod");
	r = ask(NULL, 0);
	ok(r == TS_OK, "K13_key_mode_fixed_after_the_chroot_is_seen (%s)", ts_reason_str(r));
	stop(pid);
}

/* Chroot and then a user of no privilege (smtpd runs as postfix): files
 * that user may read are still reached through the held directories;
 * files it may not read are out of reach, and the loaded state keeps
 * deciding (what K11 says for a config out of reach). */
static void
test_after_dropping_privileges(void)
{
	char log[sizeof(child_log)], path[4300];
	pid_t pid;
	ts_reason r;

	pid = start_and_revoke(1, "K13_chrooted_unprivileged_process_accepts",
	    "K13_revocation_reaches_a_chrooted_unprivileged_process", NULL);
	snprintf(path, sizeof(path), "%s/tokenscope.conf", dir);
	if (chmod(path, 0600) != 0)
		tap_bail("chmod");
	r = ask(log, sizeof(log));
	ok(r == TS_OK && strstr(log, "out of reach") != NULL,
	    "K13_config_unreadable_to_the_dropped_user_keeps_the_loaded_state (%s; %s)",
	    ts_reason_str(r), log);
	chmod(path, 0644);
	stop(pid);
}

/* The root directory is never held, under any name: in a child, the files
 * of "/" named directly, as "." from a cwd of "/", and through "/etc/..";
 * then no descriptor of the process may be "/". */
static void
test_root_never_held(void)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		char link[64], target[4096];
		int fd, held = 0;
		ssize_t n;

		if (chdir("/") != 0)
			_exit(2);
		ts_pin_dir_of("/tokenscope.conf");
		ts_pin_dir_of("tokenscope.conf");
		ts_pin_dir_of("./tokenscope.conf");
		ts_pin_dir_of("/etc/../tokenscope.conf");
		for (fd = 0; fd < 1024; fd++) {
			snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
			if ((n = readlink(link, target, sizeof(target) - 1)) > 0) {
				target[n] = '\0';
				held += strcmp(target, "/") == 0;
			}
		}
		_exit(held == 0 ? 0 : 1);
	}
	ok(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "K13_root_directory_never_held_under_any_name");
}

static int
open_fds(void)
{
	char link[64], target[64];
	int fd, n = 0;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n += readlink(link, target, sizeof(target)) > 0;
	}
	return n;
}

/* The held directories go with the last context: a SASL plugin that
 * libsasl unloads and loads again leaks no descriptor. */
static void
test_released_with_the_last_context(void)
{
	ts_ctx *a = NULL, *b = NULL;
	ts_err e = { "" };
	int before = open_fds(), during;

	write_conf(KEY, "imap.example.com");
	(void)ts_ctx_new(conf, child_logger, NULL, &a, &e);
	(void)ts_ctx_new(conf, child_logger, NULL, &b, &e);
	during = open_fds();
	ts_ctx_free(a);
	ok(open_fds() == during, "K13_held_directories_kept_while_a_context_lives");
	ts_ctx_free(b);
	ok(during > before && open_fds() == before,
	    "K13_held_directories_closed_with_the_last_context (%d, %d, %d)", before, during,
	    open_fds());
}

/* C11 under K13: the uid-0 names are read through the directory held
 * before the chroot, never from the jail (which has no account file, or
 * one of its own), and never silently dropped: a child holds the crafted
 * account file's directory, chroots, reads it (both names); a file whose
 * directory was never held is a configuration error, not "no names". */
static void
test_root_names_after_the_chroot(void)
{
	const char *pw = env_write(dir, "passwd",
	    "root:x:0:0:root:/root:/bin/sh\ntoor:x:0:0::/:/bin/sh\nalice:x:1000:1000::/:/bin/sh\n",
	    0644);
	pid_t pid;
	int st = 0;

	if ((pid = fork()) == 0) {
		ts_conf c, d;
		ts_filelist files = { 0 };
		ts_err e = { "" };
		int ok1, ok2;

		memset(&c, 0, sizeof(c));
		memset(&d, 0, sizeof(d));
		ts_pins_hold();
		ts_pin_dir_of(pw);
		if (chroot(jail) != 0 || chdir("/") != 0)
			_exit(3);
		ok1 = ts_root_names_load(&c, pw, &files, &e) == TS_OK && c.root_names.n == 2 &&
		    strcmp(c.root_names.v[1], "toor") == 0;
		ok2 = ts_root_names_load(&d, "/elsewhere/passwd", &files, &e) == TS_R_CONFIG_ERROR;
		_exit(ok1 ? (ok2 ? 0 : 2) : 1);
	}
	ok(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "C11_uid0_names_read_through_the_held_directory_after_the_chroot (exit %d)",
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* geteuid() is 0 under fakeroot too, where chroot fails: ask the kernel. */
static int
can_chroot(void)
{
	pid_t pid = fork();
	int st;

	if (pid == 0)
		_exit(chroot(jail) == 0 ? 0 : 1);
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int
main(void)
{
	char tmpl[] = "/tmp/ts-chroot-XXXXXX";

	setenv("TS_TEST_NAME", "t_chroot", 1);
	if (geteuid() != 0)
		tap_skip_all("chroot needs root");
	(void)fx_token(TOKEN);
	(void)fx_thumbprint("p256");
	/* a directory of our own under /tmp, 0755: the dropped user must
	 * reach it (a package build's tree may sit under a 0700 directory) */
	if (mkdtemp(tmpl) == NULL || chmod(tmpl, 0755) != 0)
		tap_bail("mkdtemp");
	snprintf(dir, sizeof(dir), "%s", tmpl);
	snprintf(jail, sizeof(jail), "%s/jail", dir);
	snprintf(conf, sizeof(conf), "%s/tokenscope.conf", dir);
	if (mkdir(jail, 0755) != 0)
		tap_bail("mkdir");
	if (!can_chroot()) {
		rmdir(jail);
		rmdir(dir);
		tap_skip_all("chroot refused here (fakeroot, or no CAP_SYS_CHROOT)");
	}
	env_copy_key(dir, "p256.pub.pem");
	test_edits_reach_the_chrooted_process();
	test_fix_reaches_the_chrooted_process();
	test_after_dropping_privileges();
	test_root_never_held();
	test_released_with_the_last_context();
	test_root_names_after_the_chroot();
	{
		char cmd[4200];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			tap_diag("cleanup of %s failed", dir);
	}
	return tap_done();
}
