// Package citest tests the CI scripts themselves (.ci/run,
// scripts/ci-services.sh, scripts/test.sh) with fake services, fake make and
// a fake go: a missing PostgreSQL or mosquitto fails CI, and a test that
// skips outside the allowlist fails make test. It has no code of its own.
package citest
