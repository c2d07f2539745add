# SPDX-License-Identifier: MIT
# bash completion, installed as `tunpipe` where bash-completion loads it on
# demand ($(bashcompletiondir), from configure).
bashcompletion_DATA = completion/tunpipe
EXTRA_DIST += completion/tunpipe.bash
CLEANFILES += completion/tunpipe
completion/tunpipe: $(srcdir)/completion/tunpipe.bash
	$(AM_V_GEN)$(MKDIR_P) completion && cp $(srcdir)/completion/tunpipe.bash $@
