import Foundation

/// Tables in `pdftotext -layout` text: a header line of short cells, then rows whose cells start
/// under the header's columns. A cell too long for its column wraps onto the next lines, which
/// carry text only in the columns that wrapped ("bank." under "Meaning"): those lines are joined
/// back into their row, or the row reads "Meaning: We review … the merchant's" and the next
/// "row" is the rest of the sentence with the wrong header.
extension PDFLayout {
    /// Columns a cell may start left of its header's column (layout rounding).
    static let columnSlack = 2

    /// Cells of a line: runs separated by two or more spaces (layout mode pads columns with spaces).
    static func cells(_ line: String) -> [String] { spans(line).map(\.text) }

    /// Cells with the layout columns they start and end at.
    static func spans(_ line: String) -> [(start: Int, end: Int, text: String)] {
        var out: [(Int, Int, String)] = []
        var cell = String.UnicodeScalarView(), start = 0, blanks = 0, x = 0
        func close() {
            if !cell.isEmpty { out.append((start, start + cell.count, String(cell))) }
            cell = String.UnicodeScalarView()
        }
        for c in line.unicodeScalars {
            if c == " " || c == "\t" {
                blanks += 1
            } else {
                if blanks >= 2 || cell.isEmpty { close(); start = x } else if blanks == 1 { cell.append(" ") }
                blanks = 0
                cell.append(c)
            }
            x += 1
        }
        close()
        return out
    }

    /// The table starting at `start`, if any: the header's cells, the rows (one string per
    /// column, "" for an empty cell) and the line after the table.
    ///
    /// A line belongs to the table when each of its cells lies inside one column (from the
    /// header's start, less `columnSlack`, to the next column's start) or, as before columns were
    /// checked, when it has as many cells as the header, none over 40 characters (right-aligned
    /// figures start left of their header). Single blank lines may separate rows; a line after a
    /// blank must fill two columns or the table has ended. When blank lines separate the rows,
    /// the lines between two blanks are one row; otherwise a line with an empty first column
    /// continues the row above and any other line starts a row.
    static func table(at start: Int, _ lines: [String]) -> (header: [String], rows: [[String]], next: Int)? {
        let head = spans(lines[start])
        guard head.count >= 2, head.allSatisfy({ $0.text.count <= 40 }) else { return nil }
        let columns = head.map(\.start)
        // The column of each cell, or nil when a cell straddles two columns.
        func place(_ s: [(start: Int, end: Int, text: String)]) -> [String]? {
            var row = [String](repeating: "", count: columns.count)
            if s.count == columns.count && s.allSatisfy({ $0.text.count <= 40 }) { return s.map(\.text) }
            var used = -1
            for c in s {
                guard let j = columns.lastIndex(where: { $0 - columnSlack <= c.start }), j > used,
                      j + 1 == columns.count || c.end <= columns[j + 1] else { return nil }
                row[j] = c.text
                used = j
            }
            return row
        }
        // Table lines: their cells by column, whether a blank line (or the header) is above them.
        var found: [(cells: [String], startsGroup: Bool, line: Int)] = []
        var i = start + 1, end = start + 1, afterBlank = true
        while i < lines.count {
            if lines[i].trimmedBlanks.isEmpty {
                guard i + 1 < lines.count, !lines[i + 1].trimmedBlanks.isEmpty else { break }
                afterBlank = true
                i += 1
                continue
            }
            guard let row = place(spans(lines[i])) else { break }
            if afterBlank && row.filter({ !$0.isEmpty }).count < 2 { break }
            found.append((row, afterBlank, i))
            afterBlank = false
            i += 1
            end = i
        }
        var rows: [[String]] = []
        func add(_ cells: [String], continuing: Bool) {
            guard continuing, let last = rows.indices.last else { rows.append(cells); return }
            for (j, c) in cells.enumerated() where !c.isEmpty {
                rows[last][j] = rows[last][j].isEmpty ? c : joinWrapped(rows[last][j], c)
            }
        }
        if found.filter(\.startsGroup).count >= 2 {
            for f in found { add(f.cells, continuing: !f.startsGroup) }
        } else {
            for f in found {
                if f.cells[0].isEmpty { add(f.cells, continuing: true); continue }
                // Without blank lines between rows, a line holding only a first cell is text
                // after the table.
                if f.cells.filter({ !$0.isEmpty }).count < 2 { end = f.line; break }
                add(f.cells, continuing: false)
            }
        }
        return rows.count >= 2 ? (head.map(\.text), rows, end) : nil
    }
}
