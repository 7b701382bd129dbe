/** The drag type of a series dragged from the study list (its data is the series id). */
export const SERIES_MIME = 'application/x-medimg-series';
