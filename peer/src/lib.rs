//! # secretchat-peer: the reference peer
