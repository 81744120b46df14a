//! The records of how users sign in: a user's authentication methods (`user_auth`), and the
//! organization's login policy, which its record carries.

use serde::Serialize;

/// `{"kind":"user_auth",...}`: the kinds of authentication method a human user of the
/// organization has set up, printed after the user's record (right after it, or just before
/// the user's first manager grant). A user whose methods could not be read has none, and is
/// counted in `auth_methods_unknown`: no record never means no second factor.
#[derive(Debug, Serialize)]
pub struct UserAuth<'a> {
    pub kind: &'static str,
    pub user_id: &'a str,
    /// ZITADEL's names (`AUTHENTICATION_METHOD_TYPE_TOTP`), sorted, each once.
    pub auth_methods: &'a [String],
    /// baton's `UserTrait.mfa_status`.
    pub mfa_status: MfaStatus,
    /// baton's `UserTrait.sso_status`.
    pub sso_status: SsoStatus,
}

#[derive(Debug, Serialize)]
pub struct MfaStatus {
    /// Whether a second factor or a passkey is set up: TOTP, U2F, OTP by SMS or email, or
    /// a passkey.
    pub mfa_enabled: bool,
}

#[derive(Debug, Serialize)]
pub struct SsoStatus {
    /// Whether the user is linked to an identity provider.
    pub sso_enabled: bool,
}

/// How the organization's users may sign in, from its login policy (the instance's default
/// unless the organization has its own, `is_default`).
#[derive(Debug, Serialize)]
pub struct LoginPolicy<'a> {
    pub force_mfa: bool,
    /// MFA is forced only for users who sign in with a password, not through an identity
    /// provider.
    pub force_mfa_local_only: bool,
    pub allow_username_password: bool,
    pub allow_external_idp: bool,
    /// `PASSWORDLESS_TYPE_ALLOWED` or `PASSWORDLESS_TYPE_NOT_ALLOWED`.
    pub passwordless_type: &'a str,
    /// ZITADEL's names, sorted: `SECOND_FACTOR_TYPE_OTP`, `_U2F`, `_OTP_EMAIL`, `_OTP_SMS`.
    pub second_factors: &'a [String],
    /// `MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION`, if allowed.
    pub multi_factors: &'a [String],
    pub is_default: bool,
}
