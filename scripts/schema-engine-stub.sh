#!/bin/sh
echo "schema-engine is not available on this machine: apply migrations with 'npm run migrate'" >&2
exit 1
