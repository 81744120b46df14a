//! How users sign in, from ZITADEL's answers to records: a user's authentication methods
//! and the organization's login policy.

use crate::record::{LoginPolicy, MfaStatus, SsoStatus, UserAuth};
use crate::wire;

/// The methods that are a second factor, or a passkey, which is one by itself.
const MFA_METHODS: [&str; 5] = [
    "AUTHENTICATION_METHOD_TYPE_TOTP",
    "AUTHENTICATION_METHOD_TYPE_U2F",
    "AUTHENTICATION_METHOD_TYPE_OTP_SMS",
    "AUTHENTICATION_METHOD_TYPE_OTP_EMAIL",
    "AUTHENTICATION_METHOD_TYPE_PASSKEY",
];

/// The record of a user's authentication methods (read sorted and each once).
pub fn user_auth<'a>(user_id: &'a str, methods: &'a wire::AuthMethodTypes) -> UserAuth<'a> {
    let methods = &methods.auth_method_types;
    let has = |method: &str| methods.iter().any(|held| held == method);
    UserAuth {
        kind: "user_auth",
        user_id,
        auth_methods: methods,
        mfa_status: MfaStatus { mfa_enabled: MFA_METHODS.iter().any(|method| has(method)) },
        sso_status: SsoStatus { sso_enabled: has("AUTHENTICATION_METHOD_TYPE_IDP") },
    }
}

/// The organization's login policy, as its record carries it. `passwordlessType` is absent
/// when it is `PASSWORDLESS_TYPE_NOT_ALLOWED`, enum value 0.
pub fn login_policy<'a>(
    answer: &'a wire::LoginPolicyResponse,
    policy: &'a wire::LoginPolicy,
) -> LoginPolicy<'a> {
    LoginPolicy {
        force_mfa: policy.force_mfa,
        force_mfa_local_only: policy.force_mfa_local_only,
        allow_username_password: policy.allow_username_password,
        allow_external_idp: policy.allow_external_idp,
        passwordless_type: match &*policy.passwordless_type {
            "" => "PASSWORDLESS_TYPE_NOT_ALLOWED",
            other => other,
        },
        second_factors: &policy.second_factors,
        multi_factors: &policy.multi_factors,
        is_default: answer.is_default || policy.is_default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn methods(json: &str) -> Result<wire::AuthMethodTypes, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn methods_are_sorted_once_each_and_say_mfa_and_sso() -> Result<(), serde_json::Error> {
        let read = methods(
            r#"{"details":{"totalResult":"4"},"authMethodTypes":["AUTHENTICATION_METHOD_TYPE_TOTP","AUTHENTICATION_METHOD_TYPE_PASSWORD","AUTHENTICATION_METHOD_TYPE_TOTP","AUTHENTICATION_METHOD_TYPE_IDP","AUTHENTICATION_METHOD_TYPE_UNSPECIFIED"]}"#,
        )?;
        let record = serde_json::to_string(&user_auth("7", &read))?;
        assert_eq!(
            record,
            r#"{"kind":"user_auth","user_id":"7","auth_methods":["AUTHENTICATION_METHOD_TYPE_IDP","AUTHENTICATION_METHOD_TYPE_PASSWORD","AUTHENTICATION_METHOD_TYPE_TOTP"],"mfa_status":{"mfa_enabled":true},"sso_status":{"sso_enabled":true}}"#
        );
        // A password alone, or none at all (the list absent): no second factor.
        for json in [r#"{"authMethodTypes":["AUTHENTICATION_METHOD_TYPE_PASSWORD"]}"#, "{}"] {
            let read = methods(json)?;
            let record = user_auth("7", &read);
            assert!(!record.mfa_status.mfa_enabled && !record.sso_status.sso_enabled, "{json}");
        }
        // A passkey is a second factor by itself; a newer server's kind is kept, and no
        // second factor by itself.
        let read = methods(
            r#"{"authMethodTypes":["AUTHENTICATION_METHOD_TYPE_RECOVERY_CODE","AUTHENTICATION_METHOD_TYPE_PASSKEY"]}"#,
        )?;
        assert_eq!(read.auth_method_types.len(), 2);
        assert!(user_auth("7", &read).mfa_status.mfa_enabled);
        let read = methods(r#"{"authMethodTypes":["AUTHENTICATION_METHOD_TYPE_RECOVERY_CODE"]}"#)?;
        assert!(!user_auth("7", &read).mfa_status.mfa_enabled);
        Ok(())
    }

    #[test]
    fn hostile_method_lists_are_refused_or_cost_nothing() -> Result<(), serde_json::Error> {
        for json in [
            r#"{"authMethodTypes":["AUTHENTICATION_METHOD_TYPE_totp"]}"#,
            r#"{"authMethodTypes":["AUTHENTICATION_METHOD_TYPE_"]}"#,
            r#"{"authMethodTypes":["TOTP"]}"#,
            r#"{"authMethodTypes":["AUTHENTICATION_METHOD_TYPE_\u001b[31mX"]}"#,
            r#"{"authMethodTypes":[1]}"#,
            r#"{"authMethodTypes":"AUTHENTICATION_METHOD_TYPE_TOTP"}"#,
        ] {
            assert!(methods(json).is_err(), "{json}");
        }
        let many: Vec<String> =
            (0..33).map(|i| format!("\"AUTHENTICATION_METHOD_TYPE_X{i}\"")).collect();
        let error = methods(&format!(r#"{{"authMethodTypes":[{}]}}"#, many.join(","))).unwrap_err();
        assert!(error.to_string().contains("more than 32 distinct"), "{error}");
        let repeated = vec!["\"AUTHENTICATION_METHOD_TYPE_U2F\""; 100_000].join(",");
        let read = methods(&format!(r#"{{"authMethodTypes":[{repeated}]}}"#))?;
        assert_eq!(read.auth_method_types, ["AUTHENTICATION_METHOD_TYPE_U2F"]);
        let long =
            format!(r#"{{"authMethodTypes":["AUTHENTICATION_METHOD_TYPE_{}"]}}"#, "A".repeat(200));
        let error = methods(&long).unwrap_err().to_string();
        assert!(error.contains("a string of 227 characters"), "{error}");
        Ok(())
    }

    #[test]
    fn the_login_policy_as_the_record_carries_it() -> Result<(), serde_json::Error> {
        let answer: wire::LoginPolicyResponse = serde_json::from_str(
            r#"{"policy":{"details":{"sequence":"3"},"allowUsernamePassword":true,"allowRegister":true,"forceMfa":true,"secondFactors":["SECOND_FACTOR_TYPE_U2F","SECOND_FACTOR_TYPE_OTP"],"passwordCheckLifetime":"864000s"}}"#,
        )?;
        let policy = answer.policy.as_ref().expect("a policy");
        assert_eq!(
            serde_json::to_string(&login_policy(&answer, policy))?,
            r#"{"force_mfa":true,"force_mfa_local_only":false,"allow_username_password":true,"allow_external_idp":false,"passwordless_type":"PASSWORDLESS_TYPE_NOT_ALLOWED","second_factors":["SECOND_FACTOR_TYPE_OTP","SECOND_FACTOR_TYPE_U2F"],"multi_factors":[],"is_default":false}"#
        );
        let answer: wire::LoginPolicyResponse = serde_json::from_str(
            r#"{"policy":{"passwordlessType":"PASSWORDLESS_TYPE_ALLOWED","multiFactors":["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"]},"isDefault":true}"#,
        )?;
        let record = login_policy(&answer, answer.policy.as_ref().expect("a policy"));
        assert_eq!(
            (record.passwordless_type, record.is_default),
            ("PASSWORDLESS_TYPE_ALLOWED", true)
        );
        let bad = r#"{"policy":{"secondFactors":["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"]}}"#;
        assert!(serde_json::from_str::<wire::LoginPolicyResponse>(bad).is_err());
        Ok(())
    }
}
