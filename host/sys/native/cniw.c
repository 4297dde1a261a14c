/*
 * cniw: the few system calls Node lacks, as a tiny N-API addon (loads in well under
 * a millisecond, against ~18 ms for a general FFI). Everything is synchronous on
 * purpose: wasm host imports are synchronous, and a synchronous call cannot yield
 * to the event loop while the thread sits in another network namespace.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <node_api.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef NS_GET_NSTYPE
#define NS_GET_NSTYPE 0xb703 /* _IO(0xb7, 0x3), linux/nsfs.h, kernel >= 4.11 */
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  const char *name = "EUNKNOWN";
  switch (err) {
#define E(x) case x: name = #x; break;
    E(EPERM) E(ENOENT) E(EINTR) E(EIO) E(EBADF) E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT)
    E(EBUSY) E(EEXIST) E(ENODEV) E(ENOTDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOSPC)
    E(ERANGE) E(ENOBUFS) E(ETIMEDOUT) E(EOPNOTSUPP) E(EPROTONOSUPPORT) E(EAFNOSUPPORT)
    E(ENETDOWN) E(ENETUNREACH) E(EADDRINUSE) E(EADDRNOTAVAIL) E(ENOTTY) E(ESRCH)
#undef E
    default: break;
  }
  snprintf(msg, sizeof msg, "%s: %s (%s)", what, strerror(err), name);
  napi_value code, message, error;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_value errnoval;
  napi_create_int32(env, err, &errnoval);
  napi_set_named_property(env, error, "errno", errnoval);
  napi_set_named_property(env, error, "syscall", message);
  napi_throw(env, error);
  return NULL;
}

static int arg_i32(napi_env env, napi_value v, int32_t *out) {
  return napi_get_value_int32(env, v, out) == napi_ok;
}

#define ARGS(n)                                                   \
  size_t argc = n;                                                \
  napi_value argv[n];                                             \
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);           \
  if (argc < n) {                                                 \
    napi_throw_type_error(env, NULL, "expected " #n " arguments"); \
    return NULL;                                                  \
  }

static napi_value ret_i32(napi_env env, int32_t v) {
  napi_value r;
  napi_create_int32(env, v, &r);
  return r;
}

/* setns(fd, nstype) */
static napi_value js_setns(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd, type;
  if (!arg_i32(env, argv[0], &fd) || !arg_i32(env, argv[1], &type)) return NULL;
  if (setns(fd, type) != 0) return throw_errno(env, "setns", errno);
  return NULL;
}

/* nsType(fd) -> CLONE_NEW* type of the namespace fd refers to (ENOTTY: not a namespace). */
static napi_value js_ns_type(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!arg_i32(env, argv[0], &fd)) return NULL;
  int r = ioctl(fd, NS_GET_NSTYPE);
  if (r < 0) return throw_errno(env, "ioctl(NS_GET_NSTYPE)", errno);
  return ret_i32(env, r);
}

/* nlOpen(protocol, rcvbufBytes) -> fd. Bound, with extended acks. */
static napi_value js_nl_open(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t proto, rcvbuf;
  if (!arg_i32(env, argv[0], &proto) || !arg_i32(env, argv[1], &rcvbuf)) return NULL;
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
  if (fd < 0) return throw_errno(env, "socket(AF_NETLINK)", errno);
  int one = 1;
  /* Best effort: older kernels lack these; errors still arrive, only less detailed. */
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  struct sockaddr_nl sa;
  memset(&sa, 0, sizeof sa);
  sa.nl_family = AF_NETLINK;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "bind(AF_NETLINK)", e);
  }
  return ret_i32(env, fd);
}

static int get_buf(napi_env env, napi_value v, void **data, size_t *len) {
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &t, len, data, &ab, &off) != napi_ok || t != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "expected a Uint8Array");
    return 0;
  }
  return 1;
}

/* nlSend(fd, bytes) -> bytes sent (to the kernel, pid 0) */
static napi_value js_nl_send(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  void *data;
  size_t len;
  if (!arg_i32(env, argv[0], &fd) || !get_buf(env, argv[1], &data, &len)) return NULL;
  struct sockaddr_nl sa;
  memset(&sa, 0, sizeof sa);
  sa.nl_family = AF_NETLINK;
  ssize_t n;
  do n = sendto(fd, data, len, 0, (struct sockaddr *)&sa, sizeof sa);
  while (n < 0 && errno == EINTR);
  if (n < 0) return throw_errno(env, "netlink send", errno);
  return ret_i32(env, (int32_t)n);
}

/* nlRecv(fd, buffer, timeoutMs) -> bytes received; throws ETIMEDOUT when nothing came in time. */
static napi_value js_nl_recv(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd, timeout;
  void *data;
  size_t len;
  if (!arg_i32(env, argv[0], &fd) || !get_buf(env, argv[1], &data, &len) || !arg_i32(env, argv[2], &timeout))
    return NULL;
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int r;
  do r = poll(&p, 1, timeout);
  while (r < 0 && errno == EINTR);
  if (r < 0) return throw_errno(env, "netlink poll", errno);
  if (r == 0) return throw_errno(env, "netlink recv", ETIMEDOUT);
  ssize_t n;
  do n = recv(fd, data, len, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) return throw_errno(env, "netlink recv", errno);
  return ret_i32(env, (int32_t)n);
}

/* flock(fd, op) -> true if taken, false if LOCK_NB and held by another. */
static napi_value js_flock(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd, op;
  if (!arg_i32(env, argv[0], &fd) || !arg_i32(env, argv[1], &op)) return NULL;
  int r;
  do r = flock(fd, op);
  while (r < 0 && errno == EINTR);
  napi_value out;
  if (r < 0) {
    if (errno == EWOULDBLOCK && (op & LOCK_NB)) {
      napi_get_boolean(env, 0, &out);
      return out;
    }
    return throw_errno(env, "flock", errno);
  }
  napi_get_boolean(env, 1, &out);
  return out;
}

/* closeFd(fd): close without going through libuv's fs machinery. */
static napi_value js_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!arg_i32(env, argv[0], &fd)) return NULL;
  if (close(fd) != 0) return throw_errno(env, "close", errno);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"setns", NULL, js_setns, NULL, NULL, NULL, napi_enumerable, NULL},
      {"nsType", NULL, js_ns_type, NULL, NULL, NULL, napi_enumerable, NULL},
      {"nlOpen", NULL, js_nl_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"nlSend", NULL, js_nl_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"nlRecv", NULL, js_nl_recv, NULL, NULL, NULL, napi_enumerable, NULL},
      {"flock", NULL, js_flock, NULL, NULL, NULL, napi_enumerable, NULL},
      {"closeFd", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
