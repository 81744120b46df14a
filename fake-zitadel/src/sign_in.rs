//! How users sign in: an organization's login policy, and the kinds of authentication method
//! of one user.
//!
//! Wire facts from `docs/zitadel-api.md#how-users-sign-in`. `GetLoginPolicy`
//! (`policy.read`) answers the organization's own policy, or the instance's default with
//! `isDefault` in it and beside it. `ListAuthenticationMethodTypes` (user service v2, a GET)
//! needs only authentication at the interceptor; then, unless the caller asks about itself,
//! `user.read` in the context organization (403 `AUTH-AWfge` without it), and it selects the
//! user by id in the whole instance: a user of any organization is answered, and an id no
//! user has gets an empty list, as ZITADEL's query joins the methods to the user's row
//! (`ListActiveUserAuthMethodTypes`). The methods come in no order, then `PASSWORD` if one is
//! set, then `IDP` if the user is linked to one; a user with none has no `authMethodTypes`.

use crate::dataset::{Dataset, Token};
use crate::json;
use crate::routes::VIEW_TIMESTAMP;

/// The instance's default login policy (`DefaultInstance.LoginPolicy` of ZITADEL's
/// `defaults.yaml`, second and multi factors as a new instance sets them up; inferred).
pub const DEFAULT_LOGIN_POLICY: &str = r#"{"details":{"sequence":"1","creationDate":"2024-11-04T15:00:00.000001Z","changeDate":"2024-11-04T15:00:00.000001Z","resourceOwner":"284904986052325380"},"allowUsernamePassword":true,"allowRegister":true,"allowExternalIdp":true,"passwordlessType":"PASSWORDLESS_TYPE_ALLOWED","isDefault":true,"passwordCheckLifetime":"864000s","externalLoginCheckLifetime":"864000s","mfaInitSkipLifetime":"2592000s","secondFactorCheckLifetime":"64800s","multiFactorCheckLifetime":"43200s","secondFactors":["SECOND_FACTOR_TYPE_OTP","SECOND_FACTOR_TYPE_U2F"],"multiFactors":["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"],"allowDomainDiscovery":true}"#;

/// The endpoints of this file.
pub(super) enum SignInRoute {
    /// `GetLoginPolicy`.
    LoginPolicy,
    /// `ListAuthenticationMethodTypes` of one user.
    AuthMethods { user_id: String },
}

impl SignInRoute {
    pub(super) fn of(path: &str) -> Option<SignInRoute> {
        if path == "/management/v1/policies/login" {
            return Some(SignInRoute::LoginPolicy);
        }
        let user_id = path.strip_prefix("/v2/users/")?.strip_suffix("/authentication_methods")?;
        if user_id.is_empty() || user_id.contains('/') {
            return None;
        }
        Some(SignInRoute::AuthMethods { user_id: user_id.to_string() })
    }

    /// The methods' call checks `user.read` itself, after the interceptor.
    pub(super) fn permission(&self) -> &'static str {
        match self {
            SignInRoute::LoginPolicy => "policy.read",
            SignInRoute::AuthMethods { .. } => "",
        }
    }

    pub(super) fn template(&self) -> &'static str {
        match self {
            SignInRoute::LoginPolicy => "GET /management/v1/policies/login",
            SignInRoute::AuthMethods { .. } => "GET /v2/users/{user_id}/authentication_methods",
        }
    }
}

/// The body of the answer, or `Err` for a refusal: the token lacks `user.read`.
pub(super) fn answer(
    route: &SignInRoute,
    dataset: &Dataset,
    token: &Token,
    org_id: &str,
) -> Result<String, ()> {
    match route {
        SignInRoute::LoginPolicy => {
            let own = dataset.org(org_id).and_then(|org| org.login_policy.as_deref());
            Ok(match own {
                Some(policy) => format!("{{\"policy\":{policy}}}"),
                None => format!("{{\"policy\":{DEFAULT_LOGIN_POLICY},\"isDefault\":true}}"),
            })
        }
        SignInRoute::AuthMethods { user_id } => {
            if !token.holds("user.read") {
                return Err(());
            }
            let methods = dataset.orgs.iter().find_map(|org| org.auth_methods.get(user_id));
            Ok(methods_body(methods.map(Vec::as_slice).unwrap_or_default()))
        }
    }
}

/// `{"details":{..},"authMethodTypes":[..]}`, the password and the IdP link last.
fn methods_body(methods: &[String]) -> String {
    let last = ["AUTHENTICATION_METHOD_TYPE_PASSWORD", "AUTHENTICATION_METHOD_TYPE_IDP"];
    let mut ordered: Vec<&str> =
        methods.iter().map(String::as_str).filter(|m| !last.contains(m)).collect();
    ordered.extend(last.iter().copied().filter(|m| methods.iter().any(|held| held == m)));
    let mut body = String::from("{\"details\":{");
    if !ordered.is_empty() {
        body.push_str(&format!("\"totalResult\":\"{}\",", ordered.len()));
    }
    body.push_str(&format!("\"timestamp\":\"{VIEW_TIMESTAMP}\"}}"));
    if !ordered.is_empty() {
        body.push_str(",\"authMethodTypes\":[");
        for (i, method) in ordered.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            json::write_string(&mut body, method);
        }
        body.push(']');
    }
    body.push('}');
    body
}
