extension T5Config {
    /// How many parameters a model of this architecture has, without allocating one (the layout
    /// `T5Model` builds, counted): for `plan`'s per-size table.
    public var parameterCount: Int {
        let store = ParameterStore()
        _ = T5Layout(config: self, store: store)
        return store.count
    }
}
