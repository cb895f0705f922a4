# The two commands of the quick start: `make up` and `make test`.
VENV ?= .venv
PYTEST_ARGS ?=

.PHONY: up test deps bench clean-state

deps:
	@./scripts/bootstrap.sh

up: deps
	$(VENV)/bin/cloud up

test: deps
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

bench: deps
	$(VENV)/bin/python bench/boot.py

clean-state:
	rm -rf .cloud
