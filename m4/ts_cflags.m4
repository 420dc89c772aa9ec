# TS_CHECK_CFLAG(FLAG, ACTION-IF-OK, [ACTION-IF-NOT]): probe one compiler flag with -Werror so an
# unknown flag is noticed by both gcc and clang.
AC_DEFUN([TS_CHECK_CFLAG], [
  AS_VAR_PUSHDEF([ts_var], [ts_cv_cflag_$1])
  AC_CACHE_CHECK([whether $CC accepts $1], [ts_var], [
    ts_save_CFLAGS="$CFLAGS"
    CFLAGS="$CFLAGS -Werror $1"
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])], [AS_VAR_SET([ts_var], [yes])], [AS_VAR_SET([ts_var], [no])])
    CFLAGS="$ts_save_CFLAGS"])
  AS_VAR_IF([ts_var], [yes], [$2], [$3])
  AS_VAR_POPDEF([ts_var])
])
