"""The Cloud Support API v2 surface, wire-compatible with Google's: paths, JSON field
names, enums, paging and error shapes follow the public discovery document
(`cloudsupport.v2.json`). Reads start from the visibility gates, writes go through
`cases.services`; this package only translates between the wire and those functions."""
