/*
 * overlay.h - the options of an overlayfs mount: a container's root made
 * of an image's layers, read-only and shared, under a writable layer of
 * its own.  Used by run, which makes the mount(2) call itself, and img-build.  See
 * Documentation/filesystems/overlayfs.rst and mount(2).
 */
#ifndef MINIDOCK_OVERLAY_H
#define MINIDOCK_OVERLAY_H

#include <stddef.h>

/*
 * "lowerdir=L3:L2:L1,upperdir=UPPER,workdir=WORK" for LAYERS[0..N-1],
 * given lowest first (as img-unpack prints them), malloc'd.  NULL with
 * errno E2BIG when the string would pass the page the kernel reads, or
 * EINVAL when a path holds ':' or ',' (the separators of the options).
 */
char *overlay_options(char *const layers[], size_t n, const char *upper, const char *work);

/*
 * The root of a container of IMAGE, whose layers are LAYERS[0..N-1]: 1
 * and *OPTS its overlayfs options (overlay_options), UPPER and WORK made
 * (mkdir); 0 when it is a private copy instead (MINIDOCK_STORAGE=copy, or
 * no layer stored: --verbose says which); -1 with *WHY (malloc'd).
 */
int overlay_root_options(char *const layers[], size_t n, const char *image,
			 const char *upper, const char *work, char **opts, char **why);

/*
 * Rootless: may this kernel mount an overlayfs with OPTS on TARGET inside
 * a user namespace (Linux 5.11, and a filesystem under the layers that
 * allows it)?  Tried for real in a child, in a user and mount namespace of
 * its own that end with it, so nothing stays mounted.  0, or -1 with
 * errno the kernel's refusal.
 */
int overlay_try_in_userns(const char *opts, const char *target);

/*
 * Rootless run: may the container's root be the overlayfs of *OPTS,
 * mounted by ns-enter inside the container's user namespace?  Not when
 * run must first read the image's files on the host (HOST_FILES says
 * why, or NULL): that overlayfs exists only in the container's
 * namespaces.  Nor when the kernel refuses (overlay_try_in_userns on
 * TARGET).  1: yes, ",userxattr" added to *OPTS (realloc'd); 0: a
 * private copy of the image instead (--verbose says why).
 */
int overlay_rootless(char **opts, const char *target, const char *host_files);

/*
 * run: how container NAME's root at TARGET is made from IMAGE's LAYERS
 * (overlay_root_options, its upper and work directories in its disk
 * directory; ROOTLESS: overlay_rootless, HOST_FILES).  OVERLAY_HERE: run
 * mounts the overlayfs of *OPTS (malloc'd); OVERLAY_USERNS: ns-enter
 * mounts it, in the container's user namespace; OVERLAY_COPY: a private
 * copy of the image (*OPTS NULL).  -1 with *WHY (malloc'd).
 */
enum { OVERLAY_COPY, OVERLAY_HERE, OVERLAY_USERNS };
int overlay_plan(char *const layers[], size_t n, const char *image, const char *name,
		 int rootless, const char *target, const char *host_files, char **opts,
		 char **why);

#endif
