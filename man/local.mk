# man/ — the manual pages. The .in files get the install paths at make time
# (data/local.mk: paxfs_subst), so the pages name the files this install uses.

man_MANS = man/paxfs.8 man/paxfsctl.8 man/paxfs-verify.8 man/paxfs.conf.5
EXTRA_DIST += man/paxfs.8.in man/paxfsctl.8.in man/paxfs-verify.8.in man/paxfs.conf.5.in
CLEANFILES += $(man_MANS)

man/%.8: $(srcdir)/man/%.8.in data/paths
	$(AM_V_GEN)$(MKDIR_P) man && $(paxfs_subst) $< >$@.tmp && mv $@.tmp $@

man/%.5: $(srcdir)/man/%.5.in data/paths
	$(AM_V_GEN)$(MKDIR_P) man && $(paxfs_subst) $< >$@.tmp && mv $@.tmp $@
