//! The deployment files hold up where hosts and clusters are hardened: the CronJob is
//! admitted at the "restricted" Pod Security level and runs again only when a rerun can
//! help, the systemd service is sandboxed (rated by `systemd-analyze security`) and leaves
//! the export readable by a documented group, and the cron job's log is rotated.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::harness::*;

/// Skips a test whose tool is missing, with a one-line notice, except in CI, where
/// `make test-tools` installs every tool these tests use and a missing one is a failure.
fn skip_without(tool: &str) {
    if std::env::var("CI").is_ok_and(|value| !value.is_empty() && value != "false" && value != "0")
    {
        panic!("{tool} is missing in CI, where `make test-tools` installs it");
    }
    eprintln!("skipped: {tool} is not installed");
}

/// The Python of the tests' tools, which has PyYAML: `DUCKDB_PYTHON` (which `make test` sets
/// to the project's environment under `target/`), else that environment, else `python3`.
fn test_tools_python() -> String {
    if let Ok(python) = std::env::var("DUCKDB_PYTHON")
        && !python.is_empty()
    {
        return python;
    }
    let venv = root().join("target/test-tools/venv/bin/python");
    if venv.exists() { venv.to_string_lossy().into_owned() } else { "python3".to_string() }
}

/// The YAML documents of `deploy/<name>`, as JSON, read by PyYAML: a real YAML parser, so
/// that what is checked is what the cluster reads.
fn yaml_documents(name: &str) -> Option<Vec<Value>> {
    const READ: &str = "import json, sys, yaml\n\
                        json.dump(list(yaml.safe_load_all(open(sys.argv[1]))), sys.stdout)";
    let path = root().join("deploy").join(name);
    let output = Command::new(test_tools_python()).args(["-c", READ]).arg(&path).output();
    match output {
        Ok(output) if output.status.success() => {
            Some(serde_json::from_slice(&output.stdout).unwrap())
        }
        Ok(output) if String::from_utf8_lossy(&output.stderr).contains("No module named") => {
            skip_without("PyYAML (make test-tools)");
            None
        }
        Ok(output) => {
            panic!("{name} is not valid YAML: {}", String::from_utf8_lossy(&output.stderr))
        }
        Err(_) => {
            skip_without("python3");
            None
        }
    }
}

/// The action the Job's `podFailurePolicy` takes when the container `sync` exits with
/// `status`: the first rule that matches, as Kubernetes applies them.
fn action_for_exit(policy: &Value, status: i64) -> Option<String> {
    for rule in policy["rules"].as_array()? {
        let Some(codes) = rule.get("onExitCodes") else { continue };
        if codes.get("containerName").is_some_and(|name| name != "sync") {
            continue;
        }
        let values: Vec<i64> =
            codes["values"].as_array()?.iter().filter_map(Value::as_i64).collect();
        let matches = match codes["operator"].as_str()? {
            "In" => values.contains(&status),
            "NotIn" => !values.contains(&status),
            other => panic!("unknown operator {other}"),
        };
        if matches {
            return Some(rule["action"].as_str()?.to_string());
        }
    }
    None
}

/// A Kubernetes quantity of memory, in bytes.
fn bytes(quantity: &Value) -> u64 {
    let text = quantity.as_str().expect("a quantity as a string");
    let (number, unit) =
        text.split_at(text.find(|c: char| c.is_alphabetic()).unwrap_or(text.len()));
    let scale = match unit {
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "" => 1,
        other => panic!("unit {other}"),
    };
    number.parse::<u64>().unwrap() * scale
}

#[test]
fn the_cronjob_is_admitted_at_the_restricted_pod_security_level() {
    let Some(documents) = yaml_documents("kubernetes/cronjob.yaml") else { return };
    let [cronjob] = &documents[..] else { panic!("one CronJob: {documents:?}") };
    assert_eq!(cronjob["kind"], "CronJob");
    let spec = &cronjob["spec"];
    assert_eq!(spec["concurrencyPolicy"], "Forbid", "never two syncs of one export at once");
    assert!(spec["timeZone"].as_str().is_some_and(|zone| zone.contains('/')), "{spec}");
    let pod = &spec["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(pod["automountServiceAccountToken"], false);
    for host in ["hostNetwork", "hostPID", "hostIPC"] {
        assert!(pod[host].is_null() || pod[host] == false, "{host}");
    }
    let pod_security = &pod["securityContext"];
    assert_eq!(pod_security["runAsNonRoot"], true);
    assert!(pod_security["runAsUser"].as_u64().is_some_and(|uid| uid != 0));
    assert_eq!(pod_security["seccompProfile"]["type"], "RuntimeDefault");
    let containers = pod["containers"].as_array().unwrap();
    for container in containers {
        let security = &container["securityContext"];
        assert_eq!(security["allowPrivilegeEscalation"], false);
        assert_eq!(security["readOnlyRootFilesystem"], true);
        assert_ne!(security["runAsNonRoot"], false);
        assert!(security["privileged"].is_null() || security["privileged"] == false);
        assert_eq!(security["capabilities"]["drop"], serde_json::json!(["ALL"]));
        assert!(security["capabilities"]["add"].is_null(), "no capability added");
        let seccomp = &security["seccompProfile"]["type"];
        assert!(seccomp.is_null() || seccomp == "RuntimeDefault");
        // Sized from the bench: the largest organization peaks at 8.1 MiB and 1.3 s of CPU.
        let resources = &container["resources"];
        for kind in ["requests", "limits"] {
            assert!(resources[kind]["cpu"].is_string(), "{kind}.cpu");
            let memory = bytes(&resources[kind]["memory"]);
            assert!((8 << 20..=256 << 20).contains(&memory), "{kind}.memory {memory}");
        }
        // The sync's own limit is under the container's, so that an organization too large
        // for it ends with exit 1 naming what outgrew it, not at the hands of the OOM killer.
        let env = container["env"].as_array().expect("the container's env");
        let limit = env.iter().find(|var| var["name"] == "BATON_MEMORY_LIMIT");
        let mib: u64 = limit.and_then(|var| var["value"].as_str()?.parse().ok()).expect("a limit");
        let container_limit = bytes(&resources["limits"]["memory"]);
        assert!(mib >= 25 && mib << 20 < container_limit, "{mib} MiB, {container_limit} bytes");
    }
    // The restricted level allows these volume types only.
    let volumes = pod["volumes"].as_array().unwrap();
    for volume in volumes {
        let kind = volume.as_object().unwrap().keys().find(|key| *key != "name").unwrap();
        let allowed = ["configMap", "secret", "persistentVolumeClaim", "emptyDir", "projected"];
        assert!(allowed.contains(&kind.as_str()), "volume type {kind}");
    }
}

#[test]
fn the_cronjob_runs_again_only_after_exit_status_5() {
    let Some(documents) = yaml_documents("kubernetes/cronjob.yaml") else { return };
    let job = &documents[0]["spec"]["jobTemplate"]["spec"];
    assert_eq!(job["template"]["spec"]["restartPolicy"], "Never", "as podFailurePolicy needs");
    assert!(job["backoffLimit"].as_u64().is_some_and(|limit| (1..=5).contains(&limit)));
    let policy = &job["podFailurePolicy"];
    // 5: the organization changed during the sync, and a new run may not see it change.
    assert_eq!(action_for_exit(policy, 5).as_deref(), Some("Count"));
    // 2, 3, 4 (configuration, PAT, permission) and 1, 6 fail alike on a rerun.
    for status in [1, 2, 3, 4, 6, 137] {
        assert_eq!(action_for_exit(policy, status).as_deref(), Some("FailJob"), "{status}");
    }
}

#[test]
fn every_object_the_cronjob_names_is_shipped_or_created_by_a_command_beside_it() {
    let Some(documents) = yaml_documents("kubernetes/cronjob.yaml") else { return };
    let Some(claims) = yaml_documents("kubernetes/pvc.yaml") else { return };
    let cronjob = std::fs::read_to_string(root().join("deploy/kubernetes/cronjob.yaml")).unwrap();
    let pod = &documents[0]["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    for volume in pod["volumes"].as_array().unwrap() {
        if let Some(secret) = volume["secret"]["secretName"].as_str() {
            let create = format!("kubectl create secret generic {secret} --from-file=");
            assert!(cronjob.contains(&create), "no command creates the Secret {secret}");
        }
        if let Some(claim) = volume["persistentVolumeClaim"]["claimName"].as_str() {
            let shipped = claims.iter().any(|document| {
                document["kind"] == "PersistentVolumeClaim" && document["metadata"]["name"] == claim
            });
            assert!(shipped, "deploy/kubernetes/pvc.yaml lacks the claim {claim}");
        }
    }
    // The optional CA: a ConfigMap made by the command shown, mounted where BATON_CA_CERT
    // points, in lines to uncomment.
    assert!(cronjob.contains("kubectl create configmap zitadel-ca --from-file=ca.pem="));
    for line in [
        "# CA - {name: BATON_CA_CERT, value: /ca/ca.pem}",
        "# CA - {name: ca, mountPath: /ca, readOnly: true}",
        "# CA - {name: ca, configMap: {name: zitadel-ca}}",
    ] {
        assert!(cronjob.contains(line), "lacks {line}");
    }
}

/// The `key=value` settings of a unit file's `[Service]` section, in order.
fn service_settings(text: &str) -> Vec<(String, String)> {
    let mut section = "";
    let mut settings = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if line.starts_with('[') {
            section = line;
        } else if let Some((key, value)) = line.split_once('=') {
            settings.push((format!("{section}{key}"), value.to_string()));
        }
    }
    settings
}

fn values<'s>(settings: &'s [(String, String)], key: &str) -> Vec<&'s str> {
    settings.iter().filter(|(k, _)| k == key).map(|(_, value)| value.as_str()).collect()
}

#[test]
fn the_systemd_export_is_readable_by_a_group_and_the_service_sandboxed() {
    let text = std::fs::read_to_string(root().join("deploy/baton-zitadel.service")).unwrap();
    let unit = service_settings(&text);
    let one = |key: &str| match values(&unit, &format!("[Service]{key}"))[..] {
        [value] => value,
        ref other => panic!("{key}: {other:?}"),
    };
    // DynamicUser would put the StateDirectory under /var/lib/private, which only root can
    // enter: a static user, and the group of the export's readers.
    assert!(values(&unit, "[Service]DynamicUser").iter().all(|v| *v == "no"));
    assert_eq!(one("User"), "baton");
    assert_eq!(one("Group"), "baton-readers");
    let output = values(&unit, "[Service]Environment")
        .into_iter()
        .find_map(|e| e.strip_prefix("BATON_OUTPUT="))
        .unwrap();
    assert_eq!(
        Path::new(output).parent().unwrap(),
        Path::new("/var/lib").join(one("StateDirectory"))
    );
    assert_eq!(one("StateDirectoryMode"), "0750", "the group may enter");
    assert_eq!(one("ExecStartPost"), format!("/usr/bin/chmod 0640 {output}"), "and read");
    assert_eq!(one("UMask"), "0027");
    // The sandbox, which still lets it reach the instance.
    for (key, value) in [
        ("ProtectSystem", "strict"),
        ("PrivateDevices", "yes"),
        ("NoNewPrivileges", "yes"),
        ("CapabilityBoundingSet", ""),
        ("RestrictAddressFamilies", "AF_INET AF_INET6"),
    ] {
        assert_eq!(one(key), value, "{key}");
    }
    assert!(values(&unit, "[Service]SystemCallFilter").contains(&"@system-service"));
    assert!(values(&unit, "[Service]PrivateNetwork").is_empty(), "it must reach the instance");
    // The failure hook is a unit shipped beside it.
    let hook = values(&unit, "[Unit]OnFailure")[0].replace("%n", "");
    assert!(root().join("deploy").join(&hook).exists(), "deploy/{hook}");
    systemd_analyze(output);
}

/// `systemd-analyze verify` on every unit of `deploy/` installed in a scratch root (with
/// the programs they run), and `systemd-analyze security --offline=yes` on the service,
/// which must rate it at most 2.5.
fn systemd_analyze(output: &str) {
    if Command::new("systemd-analyze").arg("--version").output().is_err() {
        skip_without("systemd-analyze (make test-tools, or apt-get install systemd)");
        return;
    }
    let scratch = temp_dir("units");
    let units = scratch.join("etc/systemd/system");
    let system_units = scratch.join("usr/lib/systemd/system");
    for dir in [&units, &system_units, &scratch.join("usr/local/bin"), &scratch.join("usr/bin")] {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::copy(env!("CARGO_BIN_EXE_baton-zitadel"), scratch.join("usr/local/bin/baton-zitadel"))
        .unwrap();
    for program in ["chmod", "logger"] {
        // Only executables the units name need to exist; a stand-in will do.
        std::fs::copy(env!("CARGO_BIN_EXE_baton-zitadel"), scratch.join("usr/bin").join(program))
            .unwrap();
    }
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root().join("deploy")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".service") || name.ends_with(".timer") {
            std::fs::copy(entry.path(), units.join(&name)).unwrap();
            names.push(name.replace("@.", "@baton-zitadel.service."));
        }
    }
    for entry in std::fs::read_dir("/usr/lib/systemd/system").into_iter().flatten().flatten() {
        if entry.path().is_file() {
            let _ = std::fs::copy(entry.path(), system_units.join(entry.file_name()));
        }
    }
    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .arg(format!("--root={}", scratch.display()))
        .args(&names)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&verify.stderr);
    // systemd ignores a bad setting with a message, and still exits 0.
    let ours: Vec<&str> = stderr.lines().filter(|line| line.contains("baton-zitadel")).collect();
    assert!(
        verify.status.success() && ours.is_empty(),
        "systemd-analyze verify {names:?}:\n{stderr}"
    );
    let security = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--no-pager"])
        .arg(units.join("baton-zitadel.service"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&security.stdout);
    let overall = report
        .lines()
        .find_map(|line| line.split("Overall exposure level for baton-zitadel.service: ").nth(1))
        .unwrap_or_else(|| {
            panic!("no rating:\n{report}{}", String::from_utf8_lossy(&security.stderr))
        });
    let rating: f64 = overall.split_whitespace().next().unwrap().parse().unwrap();
    assert!(rating <= 2.5, "rated {overall}:\n{report}");
    assert!(output.starts_with("/var/lib/"));
}

#[test]
fn the_cron_jobs_log_is_rotated_as_its_user() {
    let cron = std::fs::read_to_string(root().join("deploy/baton-zitadel.cron")).unwrap();
    let line = cron.lines().find(|l| !l.starts_with('#') && !l.is_empty()).unwrap();
    let user = line.split_whitespace().nth(5).unwrap();
    let log = line.split("2>>").nth(1).unwrap().trim();
    let rotate = std::fs::read_to_string(root().join("deploy/baton-zitadel.logrotate")).unwrap();
    let stanza: Vec<&str> =
        rotate.lines().map(str::trim).filter(|l| !l.starts_with('#') && !l.is_empty()).collect();
    assert_eq!(stanza.first(), Some(&format!("{log} {{").as_str()), "the cron job's log");
    assert_eq!(stanza.last(), Some(&"}"));
    // The log's directory belongs to the user: logrotate works in it as that user, and the
    // new log is that user's, for the next run to append to.
    assert!(stanza.contains(&format!("su {user} {user}").as_str()), "{stanza:?}");
    assert!(stanza.contains(&format!("create 0640 {user} {user}").as_str()), "{stanza:?}");
    for directive in ["missingok", "notifempty"] {
        assert!(stanza.contains(&directive), "{directive}");
    }
    assert!(!stanza.contains(&"copytruncate"), "each run opens the log anew");
}

/// The user, group and directories that the deployment files name are the ones the guide
/// says to create.
#[test]
fn the_guide_creates_the_user_group_and_directories_the_files_name() {
    let guide = std::fs::read_to_string(root().join("docs/operations.md")).unwrap();
    let service = std::fs::read_to_string(root().join("deploy/baton-zitadel.service")).unwrap();
    let unit = service_settings(&service);
    let user = values(&unit, "[Service]User")[0];
    let group = values(&unit, "[Service]Group")[0];
    let state = format!("/var/lib/{}", values(&unit, "[Service]StateDirectory")[0]);
    let cron = std::fs::read_to_string(root().join("deploy/baton-zitadel.cron")).unwrap();
    let line = cron.lines().find(|l| !l.starts_with('#') && !l.is_empty()).unwrap();
    let log = Path::new(line.split("2>>").nth(1).unwrap().trim());
    let export = line.split("--output ").nth(1).unwrap().split_whitespace().next().unwrap();
    assert_eq!(Path::new(export).parent().unwrap(), Path::new(&state), "one export directory");
    for command in [
        format!(
            "useradd --system --user-group --home-dir {state} --shell /usr/sbin/nologin {user}\n"
        ),
        format!("groupadd --system {group}\n"),
        format!("install -d -o {user} -g {group} -m 2750 {state}\n"),
        format!("install -o {user} -g {group} -m 0640 /dev/null {export}\n"),
        format!("install -d -o {user} -g {user} -m 0750 {}", log.parent().unwrap().display()),
    ] {
        assert!(guide.contains(&command), "the guide lacks {command:?}");
    }
}
