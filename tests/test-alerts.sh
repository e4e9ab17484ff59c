#!/usr/bin/env bash
# dmp's alerting rules (deploy/monitoring/dmp-alerts.rules.yaml) pass `promtool check rules`, and their
# unit tests (dmp-alerts.test.yaml: each alert firing and not firing, with exact labels and annotations)
# pass `promtool test rules`. deploy's MonitoringTest keeps prometheusrule.yaml equal to the rules file.
. "$(dirname "$0")/lib.sh"
requires promtool
DIR=$ROOT/deploy/monitoring
out=$(promtool check rules "$DIR/dmp-alerts.rules.yaml" 2>&1) || fail "promtool check rules: $out"
case $out in *"SUCCESS: 5 rules found"*) log "ok: promtool check rules: 5 rules" ;; *) fail "promtool check rules: $out" ;; esac
out=$(cd "$DIR" && promtool test rules dmp-alerts.test.yaml 2>&1) || fail "promtool test rules: $out"
log "ok: promtool test rules: $(tr -s ' \n' ' ' <<<"$out")"
log "PASS"
