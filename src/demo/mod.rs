//! Demonstrations that print the book's figures and draw its charts.
