// Design spaces produce DSL networks; re-export the DSL so one import is enough.
@_exported import NetworkDSL
