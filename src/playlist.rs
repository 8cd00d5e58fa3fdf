//! One broadcast's playlist rendered for stations and players: M3U8, XSPF and JSON.
