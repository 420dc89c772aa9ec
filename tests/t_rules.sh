#!/bin/sh
# t_rules.sh: the rulebook and the tree agree. Every rule ID that a comment, a
# test name or a fixture name cites (K7, A3_..., "P1-P5") must be defined in
# doc/security-model.md, so that a reader can always look a citation up; and
# nothing in the sources points at a tracker's issue, which a reader of the
# tree does not have.
: "${TS_SRCDIR:?}"
command -v perl >/dev/null 2>&1 || { echo "1..0 # SKIP perl missing"; exit 0; }
cd "$TS_SRCDIR" || { echo "1..0 # SKIP no source tree"; exit 0; }
exec perl -w - <<'PERL'
use strict;
use File::Find;

my $n = 0;
my $failed = 0;
sub ok {
	my ($cond, $name, @diag) = @_;
	$n++;
	print(($cond ? "ok" : "not ok") . " $n - $name\n");
	print "# $_\n" for @diag;
	$failed = 1 unless $cond;
}

# IDs are defined by the rulebook's headings: "### K7 — ...".
my (%defined, @dup);
if (open(my $fh, '<', 'doc/security-model.md')) {
	while (<$fh>) {
		next unless /^###\s+([KAPCMND][0-9]{1,2})\b/;
		push @dup, $1 if $defined{$1}++;
	}
	close $fh;
}
ok(%defined && !@dup, "rulebook_defines_rule_ids (" . scalar(keys %defined) . " rules)",
    map { "defined twice: $_" } @dup);

# Sources only: build output, test scratch and generated fixture data skipped.
my $src = qr/\.(?:c|h|sh|py|inc|map|am|ac)$/;
sub files {
	my ($want, @dirs) = @_;
	my @out;
	find({ no_chdir => 1, wanted => sub {
		if (-d $_) {
			$File::Find::prune = 1
			    if m{/(?:\.libs|\.deps|tmp|logs|work|autom4te\.cache)$}
			    || m{\.bin\.build$};
			return;
		}
		return if m{^tests/fixtures/} && !/\.py$/;
		push @out, $_ if -f $_ && $want->($_);
	} }, grep { -e $_ } @dirs);
	return sort @out;
}

# A citation: an ID standing alone ("(K7)", "K1, K3:", "A3/A4"), or the
# prefix of a test or fixture name ("K7_private_key_pem_refused"), or either
# end of a range ("P1-P5"). Not a command option ("grep -A12"), not part of
# a longer word or number ("P1363", "0xA1", "TS_K1").
my (%bad, $cites, %in);
for my $f (files(sub { $_[0] =~ $src },
    qw(common pam_token sasl_token tools tests bench introspect))) {
	open(my $fh, '<', $f) or next;
	while (my $l = <$fh>) {
		my @ids;
		push @ids, $1, $2 while $l =~ /(?<![\w-])([KAPCMND][0-9]{1,2})-([KAPCMND][0-9]{1,2})(?![\w])/g;
		push @ids, $1 while $l =~ /(?<![\w-])([KAPCMND][0-9]{1,2})(?=_|[^\w]|$)/g;
		for my $id (@ids) {
			$cites++;
			$in{$f} = 1;
			push @{ $bad{$id} }, "$f:$." unless $defined{$id};
		}
	}
	close $fh;
}
ok(%defined && !%bad,
    "cited_rule_ids_are_defined_in_security_model ("
    . ($cites // 0) . " citations in " . scalar(keys %in) . " files)",
    map { "$_ is not in doc/security-model.md: " . join(' ', @{ $bad{$_} }[0 .. ($#{ $bad{$_} } > 4 ? 4 : $#{ $bad{$_} })]) } sort keys %bad);

# Tracker pointers: 'issue', 'bug #' or 'GH-' followed by a number, or a part
# of the tracker named by the word in front of 'issue'. The words issuer,
# issued and "to issue" are none of these.
my @hits;
sub named_issue {
	my ($l) = @_;
	while ($l =~ /\b(?:the|this|that|an?|see)\s+((?:[\w-]+\s+){0,2})issue\b/gi) {
		my @w = split ' ', $1;
		# "the IdP will issue", "a client may issue": the verb
		return 1 unless @w && $w[-1] =~ /^(?:to|will|would|may|might|can|could|must|should|shall|does|did|not|never|then|and|or)$/i;
	}
	return 0;
}
my $man = qr{^man/.*\.[1-8]$};
for my $f (files(sub { $_[0] =~ $src || $_[0] =~ $man
    || ($_[0] =~ m{^(?:scripts|packaging)/} && $_[0] !~ /\.(?:log|trs|o|lo|deb|rpm)$/ && -T $_[0]) },
    qw(common pam_token sasl_token tools tests bench introspect scripts packaging man),
    'configure.ac', 'Makefile.am', 'bootstrap.sh')) {
	open(my $fh, '<', $f) or next;
	while (my $l = <$fh>) {
		push @hits, "$f:$.: " . substr($l =~ s/^\s+|\s+$//gr, 0, 120)
		    if $l =~ /\bissues?\s*(?:#|no\.?\s*|number\s*)?[0-9]+/i
		    || named_issue($l)
		    || $l =~ /\(\s*[\w-]+\s+issue\s*\)/i
		    || $l =~ /\b(?:ticket|bug)\s*#\s*[0-9]+/i
		    || $l =~ /\bGH-[0-9]+\b/;
	}
	close $fh;
}
ok(!@hits, "no_source_refers_to_a_tracker_issue", @hits);

print "1..$n\n";
exit $failed;
PERL
