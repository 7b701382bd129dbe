export const PRODUCT_NAME = 'MedImgShr';
