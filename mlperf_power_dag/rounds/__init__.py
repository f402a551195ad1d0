"""Which MLPerf rounds exist and how one is loaded.

- `catalog`: the rounds known in code, their source kinds and the published reference tables;
- `registry`: the catalog plus rounds found later by discovery (`$MLPERF_POWER_HOME/rounds.json`);
- `discovery`: probing MLCommons for rounds newer than the known ones;
- `download`: sparse, cached git fetches of one repository and ref;
- `sources`: the reader and sparse patterns of each (suite, source kind);
- `load`: fetch one round's files and read them into its tables.
"""
