"""The regional view: a collaborative's figures for its regional lead, never a person's."""
