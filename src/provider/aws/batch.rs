//! Packing record-set changes into as few `ChangeResourceRecordSets` calls as Route 53 allows:
//! at most 1,000 `ResourceRecord` elements and 32,000 characters of `Value` per request, where an
//! UPSERT counts twice (Route 53 quotas, "Maximum number of elements and characters in a
//! ChangeResourceRecordSets request").

/// Route 53's limit on `ResourceRecord` elements in one request.
pub const MAX_RECORDS: u32 = 1_000;
/// Route 53's limit on characters in all `Value` elements of one request.
pub const MAX_CHARS: u32 = 32_000;

/// What one change costs against the limits (already doubled for an UPSERT).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cost {
    pub records: u32,
    pub chars: u32,
}

impl Cost {
    /// The cost of one change carrying `values` (an alias counts as one record whose value is
    /// its target name); UPSERT counts twice.
    pub fn of(values: &[String], alias_target: Option<&str>, upsert: bool) -> Cost {
        let (records, chars) = if values.is_empty() {
            (1u32, alias_target.map_or(0, str::len) as u32)
        } else {
            (
                values.len() as u32,
                values.iter().map(|v| v.len() as u32).sum::<u32>(),
            )
        };
        let mult = if upsert { 2 } else { 1 };
        Cost {
            records: records.saturating_mul(mult),
            chars: chars.saturating_mul(mult),
        }
    }
}

/// Splits changes into batches within the limits, as few as possible: first-fit over the
/// changes in decreasing size (optimal when every change costs the same, as TTL changes of
/// single-value records do; within 11/9 of optimal otherwise). A change too large for any batch
/// goes alone (Route 53 then says why). Returns indices into `costs`, each batch in input order.
pub fn pack(costs: &[Cost], max_records: u32, max_chars: u32) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..costs.len()).collect();
    order.sort_by(|&a, &b| {
        (costs[b].records, costs[b].chars)
            .cmp(&(costs[a].records, costs[a].chars))
            .then(a.cmp(&b))
    });
    let mut bins: Vec<(Cost, Vec<usize>)> = Vec::new();
    for i in order {
        let c = costs[i];
        let slot = bins.iter_mut().find(|(used, _)| {
            used.records + c.records <= max_records && used.chars + c.chars <= max_chars
        });
        match slot {
            Some((used, items)) => {
                used.records += c.records;
                used.chars += c.chars;
                items.push(i);
            }
            None => bins.push((c, vec![i])),
        }
    }
    let mut out: Vec<Vec<usize>> = bins
        .into_iter()
        .map(|(_, mut items)| {
            items.sort_unstable();
            items
        })
        .collect();
    out.sort_by_key(|b| b.first().copied().unwrap_or(usize::MAX));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(n: usize, len: usize) -> Vec<String> {
        (0..n).map(|_| "x".repeat(len)).collect()
    }

    #[test]
    fn upserts_of_single_values_go_500_a_batch() {
        let costs: Vec<Cost> = (0..2_500)
            .map(|_| Cost::of(&v(1, 12), None, true))
            .collect();
        let b = pack(&costs, MAX_RECORDS, MAX_CHARS);
        assert_eq!(b.len(), 5);
        assert!(b.iter().all(|x| x.len() == 500));
        let mut all: Vec<usize> = b.concat();
        all.sort_unstable();
        assert_eq!(all, (0..2_500).collect::<Vec<_>>());
    }

    #[test]
    fn characters_bind_before_records() {
        // 200 characters per value, doubled: 80 changes fill 32,000 characters.
        let costs: Vec<Cost> = (0..200).map(|_| Cost::of(&v(1, 200), None, true)).collect();
        let b = pack(&costs, MAX_RECORDS, MAX_CHARS);
        assert_eq!(b.len(), 3);
        for batch in &b {
            let chars: u32 = batch.iter().map(|&i| costs[i].chars).sum();
            let recs: u32 = batch.iter().map(|&i| costs[i].records).sum();
            assert!(chars <= MAX_CHARS && recs <= MAX_RECORDS);
        }
    }

    #[test]
    fn oversized_change_goes_alone() {
        let costs = vec![
            Cost::of(&v(1, 20_000), None, true),
            Cost::of(&v(1, 10), None, true),
        ];
        let b = pack(&costs, MAX_RECORDS, MAX_CHARS);
        assert_eq!(b, vec![vec![0], vec![1]]);
    }

    #[test]
    fn aliases_count_one_record() {
        let c = Cost::of(&[], Some("d111.cloudfront.net."), true);
        assert_eq!(c.records, 2);
        assert_eq!(c.chars, 40);
    }
}
