/* doctor_files.c: whether a consumer's process user can read the
 * configuration and key files, for `tokenscope doctor` (D5: a process that
 * cannot read them after it dropped privileges keeps what it loaded as
 * root, or loads nothing and refuses every login). */
#include "config.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "doctor.h"

#define MAX_GROUPS 256

typedef struct who {
	uid_t uid;
	gid_t groups[MAX_GROUPS];
	int ngroups;
} who;

/* The permission bits that apply to w on sb: owner, else group, else
 * others (as the kernel picks them; ACLs are not read). */
static int
may(const who *w, const struct stat *sb, mode_t usr, mode_t grp, mode_t oth)
{
	int i;

	if (w->uid == 0)
		return 1;
	if (sb->st_uid == w->uid)
		return (sb->st_mode & usr) != 0;
	for (i = 0; i < w->ngroups; i++)
		if (sb->st_gid == w->groups[i])
			return (sb->st_mode & grp) != 0;
	return (sb->st_mode & oth) != 0;
}

/* Readable by w: the file itself and search permission on every directory
 * above it. why gets the first path that stops it. */
static int
readable(const who *w, const char *path, char *why, size_t cap)
{
	char dir[4096], *slash;
	struct stat sb;

	if (stat(path, &sb) != 0 || !may(w, &sb, S_IRUSR, S_IRGRP, S_IROTH)) {
		snprintf(why, cap, "%s", path);
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	while ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (stat(dir, &sb) != 0 || !may(w, &sb, S_IXUSR, S_IXGRP, S_IXOTH)) {
			snprintf(why, cap, "%s/ (no search permission)", dir);
			return 0;
		}
	}
	return 1;
}

void
dr_check_readable(dr_ctx *d, const char *user, const char *consumer, const char *evidence)
{
	struct passwd *pw = getpwnam(user);
	char why[4200];
	who w;
	size_t i;

	if (pw == NULL)
		return; /* no such user here: the consumer's own start fails first */
	w.uid = pw->pw_uid;
	w.ngroups = MAX_GROUPS;
	if (getgrouplist(user, pw->pw_gid, w.groups, &w.ngroups) < 0)
		w.ngroups = 0;
	for (i = 0; i < d->nfiles; i++)
		if (!readable(&w, d->files[i], why, sizeof(why)))
			dr_add(d, DR_WARNING, "D5_files_unreadable_by_consumer",
			    "the consumer's process user cannot read a file of the tokenscope "
			    "configuration: a process that loaded it as root keeps that state and "
			    "never sees edits, key removals or revocations; one that starts as the "
			    "user loads nothing and refuses every login",
			    "make the file (and the directories above it) readable by that user, "
			    "for example group-readable by a group the user is in",
			    "%s runs as %s (%s); %s cannot be read by it", consumer, user, evidence,
			    why);
}
