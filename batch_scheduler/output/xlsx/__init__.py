"""Writing .xlsx files: our streaming writer for the big workbooks, xlsxwriter for the small.

Takes rows of Python values (text, numbers, booleans, dates; None for empty) with a style id
per cell; returns nothing but the file, complete when the `with StreamBook(...)` block ends.
Text is never written as a formula by either writer.

    writer.py    StreamBook, StreamSheet: rows streamed straight into the zip
    styles.py    cell formats: each made once, known by id, written as styles.xml
    parts.py     a sheet's head and tail (views, widths, filter, links, page setup) and
                 the parts that tie the package together (workbook, relationships, types)
    notes.py     notes on cells: the comments part and the drawing of their boxes
    xml_text.py  XML escaping, numbers, Excel's serial dates, relationships
    cells.py     what a cell can hold, Excel's limits; xlsxwriter helpers (templates, plan)
    layout.py    fonts, column widths, row heights and the print layout, for both writers
"""

from batch_scheduler.output.xlsx.layout import Page
from batch_scheduler.output.xlsx.writer import StreamBook, StreamSheet

__all__ = ["Page", "StreamBook", "StreamSheet"]
