# `make install` and `make uninstall` (included by the Makefile). The GNU
# directory variables, each overridable; DESTDIR stages the whole tree
# (packaging). CHINOOK is the demo's data, installed under
# $(DATADIR)/segue so that `segue demo` runs from any directory.

PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
DATADIR     ?= $(PREFIX)/share
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
CHINOOK     ?= ../shared/data/chinook
INSTALL     ?= install

HEADERS     = $(wildcard include/segue/*.h)
INSTALLED   = $(BINDIR)/segue $(LIBDIR)/libsegue.so.$(VERSION) $(LIBDIR)/$(SONAME) \
              $(LIBDIR)/libsegue.so $(LIBDIR)/libsegue.a $(PKGCONFIGDIR)/segue.pc \
              $(HEADERS:include/%=$(INCLUDEDIR)/%) \
              $(DATADIR)/segue/Chinook_Sqlite.sqlite $(DATADIR)/segue/Chinook_LICENSE.md

install: $(BUILD)/segue $(BUILD)/libsegue.so $(BUILD)/libsegue.a
	@test -r $(CHINOOK)/Chinook_Sqlite.sqlite || { echo "install: no demo data at" \
	  "$(CHINOOK)/Chinook_Sqlite.sqlite; give CHINOOK=DIR (the Chinook folder)"; exit 1; }
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) \
	  $(DESTDIR)$(INCLUDEDIR)/segue $(DESTDIR)$(DATADIR)/segue
	$(INSTALL) -m 755 $(BUILD)/segue $(DESTDIR)$(BINDIR)/segue
	$(INSTALL) -m 644 $(BUILD)/libsegue.so $(DESTDIR)$(LIBDIR)/libsegue.so.$(VERSION)
	ln -sf libsegue.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libsegue.so
	$(INSTALL) -m 644 $(BUILD)/libsegue.a $(DESTDIR)$(LIBDIR)/libsegue.a
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|; s|@LIBS@|$(LIBS) -pthread|' segue.pc.in \
	    > $(DESTDIR)$(PKGCONFIGDIR)/segue.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/segue.pc
	$(INSTALL) -m 644 $(HEADERS) $(DESTDIR)$(INCLUDEDIR)/segue/
	$(INSTALL) -m 644 $(CHINOOK)/Chinook_Sqlite.sqlite $(DESTDIR)$(DATADIR)/segue/
	$(INSTALL) -m 644 $(CHINOOK)/LICENSE.md $(DESTDIR)$(DATADIR)/segue/Chinook_LICENSE.md

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(INCLUDEDIR)/segue $(DESTDIR)$(DATADIR)/segue 2>/dev/null
