"""Security baseline of 等保 2.0 level 3: headers and CSP, personal-data protection."""
