"""Files the tests upload: ``make_corpus.py`` writes ``corpus/`` (bad input) and ``good/``."""
