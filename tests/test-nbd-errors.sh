#!/usr/bin/env bash
# Each request error the spec names, with its exact errno, as libnbd (strict mode off, so that it sends
# what a careless client would) receives it; the connection stays open after every one, and failed
# requests are not counted. A read-only volume answers reads and refuses WRITE, TRIM and WRITE_ZEROES
# with NBD_EPERM, and its backing file is unchanged.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/lib-nbd.sh"
requires nbdsh jq buf
nbd_setup

head -c 1048576 /dev/urandom > "$STATE/disk.img"
sum_before=$(sha256sum < "$STATE/disk.img")
create_volume rw '"memory":{"sizeBytes":"67108864"}'
create_volume ro "\"file\":{\"path\":\"$STATE/disk.img\"},\"readOnly\":true"

nbdsh -u "$(uri rw)" -c "$(cat <<'PY'
import errno
h.set_strict_mode(0)
size = h.get_size()

def expect(name, err, fn, *args):
    try:
        fn(*args)
    except nbd.Error as e:
        assert e.errnum == err, "%s: errno %s (%s), expected %s" % (name, e.errnum, e.string, errno.errorcode[err])
        print("ok: %s -> %s" % (name, errno.errorcode[err]))
        return
    raise AssertionError(name + ": succeeded, expected " + errno.errorcode[err])

expect("READ past the end", errno.EINVAL, h.pread, 4096, size - 2048)
expect("READ starting past the end", errno.EINVAL, h.pread, 512, size + 4096)
expect("READ over the 32 MiB maximum", errno.EINVAL, h.pread, 32 * 1024 * 1024 + 1, 0)
expect("WRITE past the end", errno.ENOSPC, h.pwrite, b"x" * 4096, size - 2048)
expect("TRIM past the end", errno.EINVAL, h.trim, 8192, size - 4096)
expect("WRITE_ZEROES past the end", errno.ENOSPC, h.zero, 8192, size - 4096)
expect("CACHE past the end", errno.EINVAL, h.cache, 8192, size - 4096)
expect("READ with NO_HOLE", errno.EINVAL, h.pread, 512, 0, nbd.CMD_FLAG_NO_HOLE)
expect("WRITE with FAST_ZERO", errno.EINVAL, h.pwrite, b"x" * 512, 0, nbd.CMD_FLAG_FAST_ZERO)
if h.get_structured_replies_negotiated():
    # DF is valid on READ once structured replies are (test-nbd-structured.sh); REQ_ONE never is.
    expect("READ with DF and REQ_ONE", errno.EINVAL, h.pread, 512, 0, nbd.CMD_FLAG_DF | nbd.CMD_FLAG_REQ_ONE)
else:
    expect("READ with DF (no structured replies)", errno.EINVAL, h.pread, 512, 0, nbd.CMD_FLAG_DF)
expect("TRIM with NO_HOLE", errno.EINVAL, h.trim, 512, 0, nbd.CMD_FLAG_NO_HOLE)
expect("FLUSH with an unknown flag", errno.EINVAL, h.flush, 1 << 9)
expect("WRITE_ZEROES with an unknown flag", errno.EINVAL, h.zero, 512, 0, 1 << 12)
# The connection is still good: one write and one read succeed after all that.
h.pwrite(b"ok" * 2048, 0)
assert h.pread(4096, 0) == b"ok" * 2048
h.shutdown()
PY
)" || fail "errors on the read-write volume"
expect_stats rw 1 4096 1 4096

nbdsh -u "$(uri ro)" -c "$(cat <<'PY'
import errno
h.set_strict_mode(0)
assert h.is_read_only()
for name, fn, args in [("WRITE", h.pwrite, (b"x" * 4096, 0)), ("TRIM", h.trim, (4096, 0)),
                       ("WRITE_ZEROES", h.zero, (4096, 0)), ("WRITE past the end", h.pwrite, (b"x", 1 << 40))]:
    try:
        fn(*args)
        raise AssertionError(name + " on a read-only volume succeeded")
    except nbd.Error as e:
        assert e.errnum == errno.EPERM, (name, e.errnum, e.string)
        print("ok: read-only %s -> EPERM" % name)
assert len(h.pread(65536, 0)) == 65536
h.flush()
h.shutdown()
PY
)" || fail "errors on the read-only volume"
expect_stats ro 1 65536 0 0
expect_eq "read-only backing file unchanged" "$sum_before" "$(sha256sum < "$STATE/disk.img")"
log "PASS"
