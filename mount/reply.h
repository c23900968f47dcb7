/* mount/reply.h — every answer to a FUSE request from mount/ goes through
 * these: each is libfuse's fuse_reply_* of the same name and arguments,
 * after mount_metrics_answered has timed the request (mount/metrics.h).
 * tests/lint_includes.sh checks that no other file of mount/ calls
 * fuse_reply_* itself, so that no answer goes unmeasured. */
#ifndef PAXFS_MOUNT_REPLY_H
#define PAXFS_MOUNT_REPLY_H

#include <fuse_lowlevel.h>

#include "mount/metrics.h"

static inline int mount_reply_err(fuse_req_t req, int err)
{
	mount_metrics_answered(req, err);
	return fuse_reply_err(req, err);
}

static inline void mount_reply_none(fuse_req_t req)
{
	mount_metrics_answered(req, 0);
	fuse_reply_none(req);
}

static inline int mount_reply_entry(fuse_req_t req, const struct fuse_entry_param *e)
{
	mount_metrics_answered(req, 0);
	return fuse_reply_entry(req, e);
}

static inline int mount_reply_create(fuse_req_t req, const struct fuse_entry_param *e,
				     const struct fuse_file_info *fi)
{
	mount_metrics_answered(req, 0);
	return fuse_reply_create(req, e, fi);
}

static inline int mount_reply_attr(fuse_req_t req, const struct stat *attr, double attr_timeout)
{
	mount_metrics_answered(req, 0);
	return fuse_reply_attr(req, attr, attr_timeout);
}

static inline int mount_reply_readlink(fuse_req_t req, const char *link)
{
	mount_metrics_answered(req, 0);
	return fuse_reply_readlink(req, link);
}

static inline int mount_reply_open(fuse_req_t req, const struct fuse_file_info *fi)
{
	mount_metrics_answered(req, 0);
	return fuse_reply_open(req, fi);
}

static inline int mount_reply_write(fuse_req_t req, size_t count)
{
	mount_metrics_answered(req, 0);
	return fuse_reply_write(req, count);
}

static inline int mount_reply_buf(fuse_req_t req, const char *buf, size_t size)
{
	mount_metrics_answered(req, 0);
	return fuse_reply_buf(req, buf, size);
}

static inline int mount_reply_statfs(fuse_req_t req, const struct statvfs *stbuf)
{
	mount_metrics_answered(req, 0);
	return fuse_reply_statfs(req, stbuf);
}

static inline int mount_reply_xattr(fuse_req_t req, size_t count)
{
	mount_metrics_answered(req, 0);
	return fuse_reply_xattr(req, count);
}

static inline int mount_reply_lock(fuse_req_t req, const struct flock *lock)
{
	mount_metrics_answered(req, 0);
	return fuse_reply_lock(req, lock);
}

#endif
