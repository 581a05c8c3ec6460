/*
 * Maps the embedded history's append log into memory (see
 * src/storage/publication-log.ts). One function:
 *
 *   map(fd, length) -> Buffer
 *
 * Reserves `length` bytes of disk for the file (posix_fallocate: a full
 * disk fails here, at start, instead of as a SIGBUS when a page is first
 * written) and maps them MAP_SHARED, read and write. Records copied into
 * the Buffer are in the kernel's page cache at once: like a write(2)
 * that returned, they survive a kill of the process. Throws when the file
 * cannot be reserved or mapped (the log then writes with write(2)). The
 * mapping is removed when the Buffer is collected; the file descriptor
 * stays the caller's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static void unmap(napi_env env, void *data, void *hint) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)hint);
}

static napi_value fail(napi_env env, const char *what, int err) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  napi_throw_error(env, NULL, message);
  return NULL;
}

static napi_value map(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  int64_t length;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int64(env, argv[1], &length) != napi_ok ||
      fd < 0 || length <= 0) {
    napi_throw_type_error(env, NULL, "map(fd, length) takes a file descriptor and a positive length");
    return NULL;
  }
  int err = posix_fallocate(fd, 0, (off_t)length);
  if (err != 0) return fail(env, "posix_fallocate", err);
  void *p = mmap(NULL, (size_t)length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return fail(env, "mmap", errno);
  napi_value buffer;
  if (napi_create_external_buffer(env, (size_t)length, p, unmap, (void *)(uintptr_t)length, &buffer) != napi_ok) {
    munmap(p, (size_t)length);
    napi_throw_error(env, NULL, "napi_create_external_buffer failed");
    return NULL;
  }
  return buffer;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "map", NAPI_AUTO_LENGTH, map, NULL, &fn);
  napi_set_named_property(env, exports, "map", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
