# The two commands a newcomer needs:
#   make run    run the broker on the embedded store (configs/dev.yaml)
#   make test   run every test (starts a throwaway Postgres unless
#               QORTAL_OIDC_TEST_DATABASE_URL names one)
.PHONY: run test build bench fuzz vet compose-up

run:
	go run ./cmd/qortal-oidc serve --config configs/dev.yaml

test:
	scripts/test.sh

build:
	CGO_ENABLED=0 go build -trimpath -o bin/qortal-oidc ./cmd/qortal-oidc

vet:
	go vet ./...

# Benchmarks need Postgres for the Postgres figures, like the tests.
bench:
	scripts/with-postgres.sh go test -run '^$$' -bench . -benchmem ./...

fuzz:
	FUZZTIME=$${FUZZTIME:-60s} scripts/fuzz.sh

# Postgres + broker in containers, secrets created once in ./secrets.
compose-up:
	scripts/compose-secrets.sh secrets
	docker compose up -d --build
