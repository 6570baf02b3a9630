//! Secrets that cannot be printed, logged or serialized by accident.
//!
//! The pattern follows Hyperswitch's `masking` crate: a value lives inside
//! [`Secret<T, S>`], `Debug` prints what the masking strategy `S` allows, there
//! is no `Display` and no `Serialize`, and the clear value is reachable only
//! through [`Secret::expose`] — so every place that touches a PAN, CVV, ID
//! number, OTP or key can be found with `grep expose`. The value is zeroized on
//! drop and compared in constant time.

use std::fmt;
use std::marker::PhantomData;

use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// How a secret shows itself in `Debug` output.
pub trait MaskingStrategy<T> {
    fn fmt(value: &T, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

/// Shows nothing but that a value is there.
pub enum Redacted {}

impl<T> MaskingStrategy<T> for Redacted {
    fn fmt(_: &T, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A zeroizing secret. See the module docs.
pub struct Secret<T: Zeroize, S: MaskingStrategy<T> = Redacted> {
    value: T,
    strategy: PhantomData<fn() -> S>,
}

impl<T: Zeroize, S: MaskingStrategy<T>> Secret<T, S> {
    pub fn new(value: T) -> Self {
        Self { value, strategy: PhantomData }
    }

    /// The clear value. Every caller is a place where card or holder data is
    /// handled in the clear; keep them few (the vault, the issuer connector).
    pub fn expose(&self) -> &T {
        &self.value
    }
}

impl<T: Zeroize + Clone, S: MaskingStrategy<T>> Clone for Secret<T, S> {
    fn clone(&self) -> Self {
        Self::new(self.value.clone())
    }
}

impl<T: Zeroize, S: MaskingStrategy<T>> Drop for Secret<T, S> {
    fn drop(&mut self) {
        self.value.zeroize();
    }
}

impl<T: Zeroize, S: MaskingStrategy<T>> fmt::Debug for Secret<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        S::fmt(&self.value, f)
    }
}

impl<T: Zeroize + AsRef<[u8]>, S: MaskingStrategy<T>> PartialEq for Secret<T, S> {
    fn eq(&self, other: &Self) -> bool {
        self.value.as_ref().ct_eq(other.value.as_ref()).into()
    }
}

impl<T: Zeroize + AsRef<[u8]>, S: MaskingStrategy<T>> Eq for Secret<T, S> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_expose_gives_value() {
        let s: Secret<String> = Secret::new("hunter2".to_owned());
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn equality_compares_values() {
        let a: Secret<String> = Secret::new("123456".into());
        let b: Secret<String> = Secret::new("123456".into());
        let c: Secret<String> = Secret::new("123457".into());
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
