{
  "targets": [
    {
      "target_name": "publog_map",
      "sources": ["publog_map.c"],
      "cflags": ["-O2", "-Wall"]
    }
  ]
}
