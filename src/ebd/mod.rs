//! The emergency-broadcast data interface (EBD, 2018 profile): resource codes and ids, the XML
//! envelope and bodies, tar packages, and SM2/SM3 signatures.
