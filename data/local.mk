# data/ — what `make install` puts beside the programs: the mount helper
# (mount -t fuse.paxfs, fstab: it must be in /sbin, --with-mount-helper-dir),
# the systemd unit paxfs@.service (--with-systemdunitdir), and sample config
# files in $(docdir). The .in files get the install paths at make time, not
# at configure time, so that `make install prefix=...` is honoured:
# data/paths holds the paths they were made with, and changes (so they are
# made again) when those do.

paxfs_subst = $(SED) \
	-e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@bindir[@]|$(bindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@docdir[@]|$(docdir)|g' \
	-e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g'

mounthelper_SCRIPTS = data/mount.fuse.paxfs
systemdunit_DATA = data/paxfs@.service
dist_doc_DATA = data/cluster.conf.example data/paxfs.env.example
EXTRA_DIST += data/mount.fuse.paxfs.in data/paxfs@.service.in
CLEANFILES += data/mount.fuse.paxfs data/paxfs@.service

data/paths: FORCE
	@$(MKDIR_P) data && \
	echo '$(sbindir) $(bindir) $(sysconfdir) $(docdir) $(PACKAGE_VERSION)' >$@.tmp && \
	if cmp -s $@ $@.tmp; then rm -f $@.tmp; else mv $@.tmp $@; fi
FORCE:
.PHONY: FORCE
CLEANFILES += data/paths

data/mount.fuse.paxfs: $(srcdir)/data/mount.fuse.paxfs.in data/paths
	$(AM_V_GEN)$(MKDIR_P) data && $(paxfs_subst) $(srcdir)/data/mount.fuse.paxfs.in >$@.tmp && \
		chmod +x $@.tmp && mv $@.tmp $@

data/paxfs@.service: $(srcdir)/data/paxfs@.service.in data/paths
	$(AM_V_GEN)$(MKDIR_P) data && $(paxfs_subst) $(srcdir)/data/paxfs@.service.in >$@.tmp && \
		mv $@.tmp $@

# `make distcheck` installs as a user into its own prefix: no /sbin there.
AM_DISTCHECK_CONFIGURE_FLAGS = --with-mount-helper-dir='$${prefix}/sbin' \
	--with-systemdunitdir='$${prefix}/lib/systemd/system'
