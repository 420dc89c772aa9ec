"""The RFC 7628 OAUTHBEARER client message the e2e drivers send.

VARIANT "oauthbearer" is what curl and msmtp send (a=, host, port, "Bearer");
"oauthbearer-noauthzid" leaves a= out, "oauthbearer-lowercase" writes the
scheme "bearer", "oauthbearer-nohostport" leaves host and port out: shapes
RFC 7628 allows that no client we test sends.
"""


def oauthbearer_message(variant, user, port, token):
    gs2 = "n,," if variant == "oauthbearer-noauthzid" else "n,a=%s," % user
    hostport = "" if variant == "oauthbearer-nohostport" else "host=127.0.0.1\x01port=%s\x01" % port
    scheme = "bearer" if variant == "oauthbearer-lowercase" else "Bearer"
    return "%s\x01%sauth=%s %s\x01\x01" % (gs2, hostport, scheme, token)
