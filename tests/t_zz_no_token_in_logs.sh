#!/bin/sh
# M3: scans every log line captured by the other tests for pieces of test
# tokens (a .sh test so that its .log can depend on theirs: see Makefile.inc).
exec "${TS_BUILDDIR:?}/tests/logscan"
